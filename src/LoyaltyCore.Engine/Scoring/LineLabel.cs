namespace LoyaltyCore.Engine.Scoring;

/// <summary>A key/value attribute of a purchase line (<c>color=red</c>, <c>promo=SPRING24</c>); keys are unique on a line.</summary>
public readonly record struct LineLabel(string Key, string Value);
