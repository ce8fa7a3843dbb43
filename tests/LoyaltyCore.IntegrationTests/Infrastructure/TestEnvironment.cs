namespace LoyaltyCore.IntegrationTests.Infrastructure;

/// <summary>The real Redis and PostgreSQL that scripts/test.sh starts. Missing ones fail the run, never skip it.</summary>
internal static class TestEnvironment
{
    public static string Redis => Require("LOYALTY_TEST_REDIS");

    public static string Postgres => Require("LOYALTY_TEST_POSTGRES");

    /// <summary>The Redis Cluster (3 masters, a replica each) that scripts/test.sh starts beside the single node.</summary>
    public static string RedisCluster => Require("LOYALTY_TEST_REDIS_CLUSTER");

    public static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{name} is not set. Run the suite with ./scripts/test.sh, which starts Redis and PostgreSQL on loopback.");
}
