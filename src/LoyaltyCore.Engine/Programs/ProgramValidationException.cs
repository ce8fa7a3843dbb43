namespace LoyaltyCore.Engine.Programs;

/// <summary>A program that cannot be activated, with every problem found, each as <c>path: reason</c>.</summary>
public sealed class ProgramValidationException : Exception
{
    public ProgramValidationException(IReadOnlyList<string> errors)
        : base("Invalid program: " + string.Join("; ", errors))
    {
        Errors = errors;
    }

    public ProgramValidationException()
        : this([])
    {
    }

    public ProgramValidationException(string message)
        : this([message])
    {
    }

    public ProgramValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [message];
    }

    public IReadOnlyList<string> Errors { get; } = [];
}
