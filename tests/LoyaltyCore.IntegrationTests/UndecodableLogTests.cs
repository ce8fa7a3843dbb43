using LoyaltyCore.Server.Api;
using Microsoft.Extensions.Logging;

namespace LoyaltyCore.IntegrationTests;

public sealed class UndecodableLogTests
{
    [Fact]
    public void A_flood_of_undecodable_messages_logs_one_warning_a_minute_with_the_count()
    {
        var clock = new SteppedClock();
        var logger = new CountingLogger();
        var undecodable = new UndecodableMessages(clock, logger);
        var failure = new FormatException("truncated");

        for (var i = 0; i < 500; i++)
        {
            Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, undecodable.Refuse("ScoreRequest", failure).StatusCode);
        }

        Assert.Equal(["Refused 1 message(s)"], logger.Warnings.Select(w => w[..20]));
        clock.Advance(TimeSpan.FromSeconds(61));
        undecodable.Refuse("ScoreRequest", failure);
        Assert.Equal(2, logger.Warnings.Count);
        Assert.StartsWith("Refused 500 message(s)", logger.Warnings[1], StringComparison.Ordinal);
    }

    private sealed class SteppedClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    private sealed class CountingLogger : ILogger<UndecodableMessages>
    {
        public List<string> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
            {
                Warnings.Add(formatter(state, exception));
            }
        }
    }
}
