namespace LoyaltyCore.Server.Ledger;

/// <summary>
/// The members' changes this server committed last, by member and change id. A change that follows one of them needs
/// no look at the ledger: a committed row never changes. Two generations; the older is dropped when the newer fills,
/// and a change that follows a forgotten one is checked against the ledger as any other.
/// </summary>
internal sealed class RecentChanges(int capacity)
{
    private readonly Lock _lock = new();
    private HashSet<(string MemberId, long ChangeId)> _current = [];
    private HashSet<(string MemberId, long ChangeId)> _previous = [];

    public void Add(string memberId, long changeId)
    {
        lock (_lock)
        {
            if (_current.Count >= capacity)
            {
                (_previous, _current) = (_current, _previous);
                _current.Clear();
            }

            _current.Add((memberId, changeId));
        }
    }

    public bool Contains(string memberId, long changeId)
    {
        lock (_lock)
        {
            return _current.Contains((memberId, changeId)) || _previous.Contains((memberId, changeId));
        }
    }
}
