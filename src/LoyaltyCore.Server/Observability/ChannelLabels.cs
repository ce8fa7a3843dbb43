namespace LoyaltyCore.Server.Observability;

internal static class ChannelLabels
{
    private static readonly string[] Labels = ["unspecified", "store", "web", "mobile_app", "partner", "call_center"];

    public static string Of(LoyaltyCore.Contracts.V1.Channel channel) =>
        (uint)channel < (uint)Labels.Length ? Labels[(int)channel] : "unknown";
}
