using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class SegmentPriceTests
{
    private static readonly Rules.MembershipPlan Plus = Program("""
        "memberships": [
          { "id": "plus", "priceMinor": 4900, "durationDays": 365,
            "segmentPrices": [ { "segment": "student", "priceMinor": 2900 }, { "segment": "teacher", "priceMinor": 2900 },
                               { "segment": "military", "priceMinor": 0 }, { "segment": "vip", "priceMinor": 4900 },
                               { "segment": "senior", "priceMinor": 5900 } ] }
        ]
        """).FindMembership("plus")!;

    [Fact]
    public void A_member_without_a_priced_segment_pays_the_standard_price()
    {
        Assert.Equal((4900L, (string?)null), Plus.PriceFor(["newsletter"]));
        Assert.Equal((4900L, (string?)null), Plus.PriceFor([]));
    }

    [Fact]
    public void A_member_in_a_priced_segment_pays_its_price_and_is_told_which()
    {
        Assert.Equal((2900L, "student"), Plus.PriceFor(["newsletter", "student"]));
    }

    [Fact]
    public void The_lowest_eligible_price_wins()
    {
        Assert.Equal((0L, "military"), Plus.PriceFor(["student", "military"]));
    }

    [Fact]
    public void On_a_tie_the_earlier_segment_price_wins_whatever_the_member_order()
    {
        Assert.Equal((2900L, "student"), Plus.PriceFor(["teacher", "student"]));
        Assert.Equal((2900L, "student"), Plus.PriceFor(["student", "teacher"]));
        Assert.Equal((2900L, "teacher"), Plus.PriceFor(["teacher"]));
    }

    [Fact]
    public void A_segment_price_equal_to_or_above_the_standard_price_is_never_charged()
    {
        Assert.Equal((4900L, (string?)null), Plus.PriceFor(["vip"]));
        Assert.Equal((4900L, (string?)null), Plus.PriceFor(["senior"]));
    }

    [Fact]
    public void Segment_prices_are_validated_with_their_paths()
    {
        var errors = Errors(Json("""
            "memberships": [
              { "id": "plus", "priceMinor": 4900, "durationDays": 365,
                "segmentPrices": [ { "segment": "student", "priceMinor": -1 }, { "priceMinor": 10 },
                                   { "segment": "a", "priceMinor": 1 }, { "segment": "a", "priceMinor": 2 }, { "segment": "b", "price": 3 } ] }
            ]
            """));

        Assert.Equal(
            [
                "memberships[0].segmentPrices[0].priceMinor: a whole number, at least 0",
                "memberships[0].segmentPrices[1].segment: required",
                "memberships[0].segmentPrices[3].segment: 'a' already has a price",
                "memberships[0].segmentPrices[4].price: unknown field",
                "memberships[0].segmentPrices[4].priceMinor: required",
            ],
            errors.Order(StringComparer.Ordinal));
    }
}
