using StackExchange.Redis;

namespace LoyaltyCore.IntegrationTests.Infrastructure;

/// <summary>
/// A member's Redis keys taken and put back whole: what a replica that missed its primary's last writes holds for them.
/// </summary>
internal static class MemberKeys
{
    public static async Task<(string MemberId, List<(RedisKey Key, byte[] Dump)> Keys)> DumpAsync(IServer node, IDatabase database, string memberId)
    {
        var keys = new List<(RedisKey, byte[])>();
        await foreach (var key in node.KeysAsync(pattern: $"lc:{{m:{memberId}}}:*"))
        {
            if (await database.KeyDumpAsync(key) is { } dump)
            {
                keys.Add((key, dump));
            }
        }

        return (memberId, keys);
    }

    public static async Task RestoreAsync(IServer node, IDatabase database, (string MemberId, List<(RedisKey Key, byte[] Dump)> Keys) snapshot)
    {
        await foreach (var key in node.KeysAsync(pattern: $"lc:{{m:{snapshot.MemberId}}}:*"))
        {
            await database.KeyDeleteAsync(key);
        }

        foreach (var (key, dump) in snapshot.Keys)
        {
            await database.KeyRestoreAsync(key, dump);
        }
    }
}
