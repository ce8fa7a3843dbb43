using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using LoyaltyCore.Contracts.V1;

namespace LoyaltyCore.LoadTests;

internal enum CallKind
{
    Score,
    Redeem,
}

/// <summary>What every worker draws from: the catalog, the distributions and the shares. Read only once built.</summary>
internal sealed class TrafficProfile
{
    private const double BasketDecay = 0.75;

    public TrafficProfile(LoadOptions options, Catalog catalog)
    {
        Catalog = catalog;
        Members = DiscreteDistribution.Zipf(catalog.MemberIds.Count, options.ZipfExponent);
        BasketSizes = options.Basket == BasketShape.Uniform
            ? DiscreteDistribution.FromWeights(options.MaxLines, _ => 1)
            : DiscreteDistribution.FromWeights(options.MaxLines, size => Math.Pow(BasketDecay, size));
        // Store 60%, web 25%, mobile app 15%.
        Channels = DiscreteDistribution.FromWeights(3, i => i switch { 0 => 60, 1 => 25, _ => 15 });
        MaxLines = options.MaxLines;
        RedeemShare = options.EffectiveRedeemShare;
        RetryShare = options.EffectiveRetryShare;
        RunId = Guid.NewGuid().ToString("N")[..10];
    }

    public Catalog Catalog { get; }

    public DiscreteDistribution Members { get; }

    /// <summary>Index k is a basket of k + 1 lines.</summary>
    public DiscreteDistribution BasketSizes { get; }

    public DiscreteDistribution Channels { get; }

    public int MaxLines { get; }

    public double RedeemShare { get; }

    public double RetryShare { get; }

    /// <summary>Makes this run's transaction ids unique against every earlier run on the same ledger.</summary>
    public string RunId { get; }

    /// <summary>Answered requests waiting to be sent again as retries.</summary>
    public RetryPool Retries { get; } = new();
}

/// <summary>
/// One request in the making. Owns a reusable ScoreRequest (with lines for the largest basket) and RedeemRequest,
/// rewritten in place for each new request; a retry sends a stored copy of an earlier request instead.
/// </summary>
internal sealed class CallSlot
{
    private readonly Line[] _lines;

    public CallSlot(int maxLines)
    {
        OwnScore = new ScoreRequest { Currency = "EUR", OccurredAt = new Timestamp() };
        OwnRedeem = new RedeemRequest { OccurredAt = new Timestamp() };
        _lines = new Line[maxLines];
        for (var i = 0; i < _lines.Length; i++)
        {
            _lines[i] = new Line();
        }

        Score = OwnScore;
    }

    public ScoreRequest OwnScore { get; }

    public RedeemRequest OwnRedeem { get; }

    public CallKind Kind { get; private set; }

    /// <summary>The request to send when <see cref="Kind"/> is Score.</summary>
    public ScoreRequest Score { get; private set; }

    /// <summary>The request to send when <see cref="Kind"/> is Redeem.</summary>
    public RedeemRequest? Redeem { get; private set; }

    /// <summary>A resend of an earlier answered request: its answer must say replayed.</summary>
    public bool IsRetry { get; private set; }

    public IReadOnlyList<Line> Lines => _lines;

    public void UseOwnScore()
    {
        Kind = CallKind.Score;
        Score = OwnScore;
        IsRetry = false;
    }

    public void UseOwnRedeem()
    {
        Kind = CallKind.Redeem;
        Redeem = OwnRedeem;
        IsRetry = false;
    }

    public void UseRetry(object request)
    {
        IsRetry = true;
        if (request is RedeemRequest redeem)
        {
            Kind = CallKind.Redeem;
            Redeem = redeem;
        }
        else
        {
            Kind = CallKind.Score;
            Score = (ScoreRequest)request;
        }
    }

    /// <summary>Offers the request just answered for a later retry (copied only when the pool wants one).</summary>
    public void OfferForRetry(RetryPool pool)
    {
        if (!IsRetry && pool.Wants)
        {
            pool.Offer(Kind == CallKind.Redeem ? Redeem!.Clone() : Score.Clone());
        }
    }
}

/// <summary>
/// One request kept for a retry, across workers. Filled by the first answered request after the previous one was
/// taken, so a copy is made about once per retry sent, not once per request.
/// </summary>
internal sealed class RetryPool
{
    private object? _request;

    public bool Wants => Volatile.Read(ref _request) is null;

    public void Offer(object request) => Interlocked.CompareExchange(ref _request, request, null);

    public object? Take() => Interlocked.Exchange(ref _request, null);
}

/// <summary>
/// Fills call slots with realistic traffic: unique transaction ids, Zipf-popular members, baskets of 1 to
/// max lines, the channel mix, a share of small redemptions and of retries. One per worker: not thread safe.
/// </summary>
internal sealed class TrafficSource
{
    private const int MinUnitPriceMinor = 99;
    private const int MaxUnitPriceMinor = 4_999;
    private const int MinRedeemPoints = 5;
    private const int MaxRedeemPoints = 100;

    private readonly TrafficProfile _profile;
    private readonly string _transactionPrefix;
    private readonly Random _random;
    private long _sequence;

    public TrafficSource(TrafficProfile profile, int worker)
    {
        _profile = profile;
        _transactionPrefix = string.Create(CultureInfo.InvariantCulture, $"lt-{profile.RunId}-{worker}-");
        _random = new Random();
    }

    /// <summary>Prepares the slot's next request.</summary>
    public void Next(CallSlot slot)
    {
        var draw = _random.NextDouble();
        if (draw < _profile.RetryShare)
        {
            // Nothing answered yet to retry (the very first requests): a purchase instead.
            if (_profile.Retries.Take() is { } earlier)
            {
                slot.UseRetry(earlier);
                return;
            }
        }
        else if (draw < _profile.RetryShare + _profile.RedeemShare)
        {
            slot.UseOwnRedeem();
            FillRedeem(slot.OwnRedeem);
            return;
        }

        slot.UseOwnScore();
        FillScore(slot.OwnScore, slot.Lines);
    }

    private void FillScore(ScoreRequest request, IReadOnlyList<Line> lines)
    {
        var catalog = _profile.Catalog;
        request.TransactionId = NextTransactionId();
        request.MemberId = catalog.MemberIds[_profile.Members.Sample(_random)];
        (request.Channel, request.StoreId) = NextChannel();
        SetNow(request.OccurredAt);

        var size = _profile.BasketSizes.Sample(_random) + 1;
        // Clear keeps the backing array, so adding the slot's own lines back allocates nothing.
        request.Lines.Clear();
        for (var i = 0; i < size; i++)
        {
            var line = lines[i];
            var product = catalog.Products[_random.Next(catalog.Products.Count)];
            line.Sku = product.Sku;
            line.Category = product.Category;
            line.Brand = product.Brand;
            line.Quantity = _random.Next(1, 4);
            line.UnitPriceMinor = _random.Next(MinUnitPriceMinor, MaxUnitPriceMinor + 1);
            request.Lines.Add(line);
        }
    }

    private void FillRedeem(RedeemRequest request)
    {
        request.TransactionId = NextTransactionId();
        request.MemberId = _profile.Catalog.MemberIds[_profile.Members.Sample(_random)];
        (request.Channel, request.StoreId) = NextChannel();
        request.Points = _random.Next(MinRedeemPoints, MaxRedeemPoints + 1);
        SetNow(request.OccurredAt);
    }

    private (Channel Channel, string StoreId) NextChannel() => _profile.Channels.Sample(_random) switch
    {
        0 => (Channel.Store, _profile.Catalog.StoreIds[_random.Next(_profile.Catalog.StoreIds.Count)]),
        1 => (Channel.Web, Catalog.WebStoreId),
        _ => (Channel.MobileApp, Catalog.AppStoreId),
    };

    private string NextTransactionId() => string.Create(CultureInfo.InvariantCulture, $"{_transactionPrefix}{_sequence++}");

    private static void SetNow(Timestamp timestamp)
    {
        var sinceEpoch = DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks;
        timestamp.Seconds = sinceEpoch / TimeSpan.TicksPerSecond;
        timestamp.Nanos = (int)(sinceEpoch % TimeSpan.TicksPerSecond * TimeSpan.NanosecondsPerTick);
    }
}
