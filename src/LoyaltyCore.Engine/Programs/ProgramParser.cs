using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using LoyaltyCore.Engine.Calendar;
using LoyaltyCore.Engine.Points;
using LoyaltyCore.Engine.Rewards;
using LoyaltyCore.Engine.Rules;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Engine.Tiers;

namespace LoyaltyCore.Engine.Programs;

/// <summary>
/// Reads a program document (see docs/PROGRAM.md), checks all of it, and compiles it into a <see cref="LoyaltyProgram"/>.
/// Every problem is reported as <c>path: reason</c>, all at once; a program with any problem is never built.
/// </summary>
public static partial class ProgramParser
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static LoyaltyProgram Parse(string json) => Parse(json, stored: false);

    /// <param name="stored">
    /// The document of a version published earlier. The checks added since versions were first stored (an entry listed
    /// twice, a time-of-day range from a time to itself) do not apply to it, so a stored version, whose meaning was
    /// already defined, keeps loading on a server of a later release; new publications get every check.
    /// </param>
    public static LoyaltyProgram Parse(string json, bool stored)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new ProgramValidationException([$"$: not valid JSON ({ex.Message.Split(". ")[0]})"]);
        }

        using (document)
        {
            var reader = new Reader(lint: !stored);
            var program = reader.Program(document.RootElement);
            if (reader.Errors.Count > 0 || program is null)
            {
                throw new ProgramValidationException(reader.Errors);
            }

            return program;
        }
    }

    // \z rather than $: $ also matches before a final newline, and "id\n" must not pass for "id".
    [GeneratedRegex("^[A-Za-z0-9._:-]{1,64}\\z")]
    private static partial Regex Identifier();

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyCode();

    private sealed class Reader(bool lint)
    {
        private static readonly string[] DayNames = Enum.GetNames<DayOfWeek>();
        private static readonly string[] ChannelNames = ["unspecified", "store", "web", "mobile_app", "partner", "call_center"];
        private readonly HashSet<string> _ruleIds = new(StringComparer.Ordinal) { LoyaltyProgram.BaseEarnRuleId, LoyaltyProgram.ReferralRuleId };
        private readonly HashSet<PeriodUnit> _nthUnits = [];
        private TimeZoneInfo _timeZone = TimeZoneInfo.Utc;
        private readonly HashSet<string> _tierIds = new(StringComparer.Ordinal);
        private readonly HashSet<string> _membershipIds = new(StringComparer.Ordinal);
        private readonly HashSet<string> _declaredEvents = new(StringComparer.Ordinal);
        private static readonly HashSet<string> PurchaseConditions = new(StringComparer.Ordinal)
        {
            "channels", "stores", "basketTotalAtLeast", "basketContains", "firstPurchase", "nthPurchase",
        };

        private bool _eventConditions;

        public List<string> Errors { get; } = [];

        public LoyaltyProgram? Program(JsonElement root)
        {
            if (!IsObject(root, "$"))
            {
                return null;
            }

            Known(root, "$", "id", "version", "currency", "currencyExponent", "timeZone", "autoEnroll", "earn", "exclusions", "caps",
                "tiers", "tierQualification", "memberships", "events", "rules", "campaigns", "objectives", "referral", "returns", "expiry", "rewards", "nudge");
            var id = Id(root, "id", "id");
            var version = Id(root, "version", "version");
            var currency = String(root, "currency", "currency", required: true);
            if (currency is not null && !CurrencyCode().IsMatch(currency))
            {
                Error("currency", "a three-letter upper-case ISO 4217 code");
            }

            var exponent = (int)(Long(root, "currencyExponent", "currencyExponent", 0, 4) ?? 2);
            _timeZone = TimeZone(root, "timeZone", "timeZone") ?? TimeZoneInfo.Utc;
            var autoEnroll = Bool(root, "autoEnroll", "autoEnroll") ?? false;

            long points = 1, perMinor = 100, minimumSpend = 0;
            var rounding = RoundingMode.Floor;
            if (Object(root, "earn", "earn", required: true) is { } earn)
            {
                Known(earn, "earn", "points", "perMinor", "rounding", "minimumSpend");
                points = Long(earn, "points", "earn.points", 0, 1_000_000, required: true) ?? 0;
                perMinor = Long(earn, "perMinor", "earn.perMinor", 1, 1_000_000_000, required: true) ?? 1;
                rounding = Rounding(earn, "rounding", "earn.rounding");
                minimumSpend = Long(earn, "minimumSpend", "earn.minimumSpend", 0, long.MaxValue) ?? 0;
            }

            var excludedCategories = new HashSet<string>(StringComparer.Ordinal);
            var excludedSkus = new HashSet<string>(StringComparer.Ordinal);
            LabelSelector? excludedLabels = null;
            if (Object(root, "exclusions", "exclusions") is { } exclusions)
            {
                Known(exclusions, "exclusions", "categories", "skus", "labels");
                excludedCategories = Strings(exclusions, "categories", "exclusions.categories") ?? excludedCategories;
                excludedSkus = Strings(exclusions, "skus", "exclusions.skus") ?? excludedSkus;
                excludedLabels = Labels(exclusions, "labels", "exclusions.labels");
            }

            var caps = new Caps(null, null);
            if (Object(root, "caps", "caps") is { } capsElement)
            {
                Known(capsElement, "caps", "perTransaction", "perMemberPerDay");
                caps = new Caps(Long(capsElement, "perTransaction", "caps.perTransaction", 0, long.MaxValue), Long(capsElement, "perMemberPerDay", "caps.perMemberPerDay", 0, long.MaxValue));
            }

            var ladder = Tiers(root);
            var policy = ladder is null ? null : Qualification(root, ladder);
            var memberships = Memberships(root);
            Events(root);
            var rules = new List<Rule>();
            if (Array(root, "rules", "rules") is { } ruleArray)
            {
                var index = 0;
                foreach (var element in ruleArray.EnumerateArray())
                {
                    if (Rule(element, $"rules[{index++}]") is { } rule)
                    {
                        rules.Add(rule);
                    }
                }
            }

            var campaigns = Campaigns(root, rules);
            var objectives = Objectives(root);
            var referral = Referral(root);
            var negativeBalance = NegativeBalancePolicy.Allow;
            if (Object(root, "returns", "returns") is { } returns)
            {
                Known(returns, "returns", "negativeBalance");
                negativeBalance = String(returns, "negativeBalance", "returns.negativeBalance") switch
                {
                    null or "allow" => NegativeBalancePolicy.Allow,
                    "clamp" => NegativeBalancePolicy.Clamp,
                    _ => Invalid("returns.negativeBalance", "one of allow, clamp", NegativeBalancePolicy.Allow),
                };
            }

            var expiry = Expiry(root);
            var rewards = Rewards(root);
            var nudge = Nudge(root);
            if (Errors.Count > 0 || policy is null)
            {
                return null;
            }

            return new LoyaltyProgram(new ProgramParts(
                id!, version!, currency!, exponent, _timeZone, autoEnroll, points, perMinor, rounding, minimumSpend, excludedCategories, excludedSkus,
                excludedLabels, caps,
                policy, memberships, rules, campaigns, objectives, referral, [.. _nthUnits.Order()], _declaredEvents, negativeBalance)
            {
                Expiry = expiry,
                Rewards = new RewardCatalogue(rewards, nudge),
            });
        }

        private TierLadder? Tiers(JsonElement root)
        {
            if (Array(root, "tiers", "tiers", required: true) is not { } array)
            {
                return null;
            }

            var tiers = new List<Tier>();
            long previous = -1;
            var index = 0;
            var valid = true;
            foreach (var element in array.EnumerateArray())
            {
                var path = $"tiers[{index}]";
                if (!IsObject(element, path))
                {
                    valid = false;
                    index++;
                    continue;
                }

                Known(element, path, "id", "name", "threshold", "multiplier");
                var id = Id(element, "id", path + ".id");
                if (id is not null && !_tierIds.Add(id))
                {
                    Error(path + ".id", $"duplicate tier id '{id}'");
                }

                var threshold = Long(element, "threshold", path + ".threshold", 0, long.MaxValue, required: true);
                if (index == 0 && threshold is not null and not 0)
                {
                    Error(path + ".threshold", "the first tier must start at 0");
                }
                else if (index > 0 && threshold is { } t && t <= previous)
                {
                    Error(path + ".threshold", $"must be greater than tiers[{index - 1}].threshold");
                }

                var multiplier = BasisPoints(element, "multiplier", path + ".multiplier") ?? 10_000;
                if (id is null || threshold is null)
                {
                    valid = false;
                }
                else
                {
                    tiers.Add(new Tier(id, String(element, "name", path + ".name") ?? id, threshold.Value, multiplier, index));
                    previous = threshold.Value;
                }

                index++;
            }

            if (index == 0)
            {
                Error("tiers", "at least one tier is required");
            }

            return valid && tiers.Count > 0 && tiers[0].Threshold == 0 ? new TierLadder(tiers) : null;
        }

        private TierPolicy? Qualification(JsonElement root, TierLadder ladder)
        {
            var metric = QualificationMetric.Spend;
            var period = QualificationPeriod.Lifetime;
            var months = 12;
            (int, int)? review = null;
            var downgrade = DowngradePolicy.AtReview;
            var reset = ReviewReset.None;
            long carryOver = 0;
            if (Object(root, "tierQualification", "tierQualification") is { } element)
            {
                const string path = "tierQualification";
                Known(element, path, "metric", "period", "months", "review", "downgrade", "reviewReset", "carryOver");
                metric = String(element, "metric", path + ".metric") switch
                {
                    null or "spend" => QualificationMetric.Spend,
                    "points" => QualificationMetric.Points,
                    "balance" => QualificationMetric.Balance,
                    _ => Invalid(path + ".metric", "one of spend, points, balance", QualificationMetric.Spend),
                };
                period = String(element, "period", path + ".period") switch
                {
                    null or "lifetime" => QualificationPeriod.Lifetime,
                    "rolling" => QualificationPeriod.Rolling,
                    "calendarYear" => QualificationPeriod.CalendarYear,
                    "sinceLastTierChange" => QualificationPeriod.SinceLastTierChange,
                    _ => Invalid(path + ".period", "one of lifetime, rolling, calendarYear, sinceLastTierChange", QualificationPeriod.Lifetime),
                };
                downgrade = String(element, "downgrade", path + ".downgrade") switch
                {
                    null or "review" => DowngradePolicy.AtReview,
                    "immediate" => DowngradePolicy.Immediate,
                    _ => Invalid(path + ".downgrade", "one of review, immediate", DowngradePolicy.AtReview),
                };
                if (metric == QualificationMetric.Balance && element.TryGetProperty("period", out _) && period != QualificationPeriod.Lifetime)
                {
                    Error(path + ".period", "the balance is a value at a point in time: leave period out");
                }

                if (downgrade == DowngradePolicy.Immediate && period == QualificationPeriod.SinceLastTierChange)
                {
                    Error(path + ".downgrade", "immediate downgrades cannot go with sinceLastTierChange, which restarts at zero at every change");
                }
                else if (downgrade == DowngradePolicy.Immediate && period == QualificationPeriod.Lifetime && metric != QualificationMetric.Balance)
                {
                    Error(path + ".downgrade", "lifetime spend and points never go down: immediate needs a rolling or calendarYear period, or the balance metric");
                }

                months = (int)(Long(element, "months", path + ".months", 1, 24) ?? 12);
                if (String(element, "review", path + ".review") is { } text)
                {
                    if (ProgramCalendar.ParseMonthDay(text) is { } monthDay)
                    {
                        review = monthDay;
                    }
                    else
                    {
                        Error(path + ".review", "a month and day, MM-DD");
                    }
                }

                if (review is not null && period == QualificationPeriod.Lifetime && metric != QualificationMetric.Balance)
                {
                    Error(path + ".review", "a review needs a rolling or calendarYear period, or the balance metric (lifetime values never go down)");
                }
                else if (review is not null && period == QualificationPeriod.SinceLastTierChange)
                {
                    Error(path + ".review", "sinceLastTierChange restarts at every change, so a review right after an upgrade would undo it: leave review out");
                }

                if (review is not null && downgrade == DowngradePolicy.Immediate)
                {
                    Error(path + ".review", "with immediate downgrades there is nothing for a review to do: leave review out");
                }

                reset = String(element, "reviewReset", path + ".reviewReset") switch
                {
                    null or "none" => ReviewReset.None,
                    "all" => ReviewReset.All,
                    "aboveCarryOver" => ReviewReset.AboveCarryOver,
                    _ => Invalid(path + ".reviewReset", "one of none, all, aboveCarryOver", ReviewReset.None),
                };
                if (reset != ReviewReset.None && review is null)
                {
                    Error(path + ".reviewReset", "a reset happens at a review: set review");
                }

                carryOver = Long(element, "carryOver", path + ".carryOver", 0, long.MaxValue, required: reset == ReviewReset.AboveCarryOver) ?? 0;
                if (reset != ReviewReset.AboveCarryOver && element.TryGetProperty("carryOver", out _))
                {
                    Error(path + ".carryOver", "only with reviewReset aboveCarryOver");
                }
            }

            return new TierPolicy(ladder, metric, period, months, review, downgrade, reset, carryOver);
        }

        private List<MembershipPlan> Memberships(JsonElement root)
        {
            var plans = new List<MembershipPlan>();
            if (Array(root, "memberships", "memberships") is not { } array)
            {
                return plans;
            }

            var index = 0;
            foreach (var element in array.EnumerateArray())
            {
                var path = $"memberships[{index++}]";
                if (!IsObject(element, path))
                {
                    continue;
                }

                Known(element, path, "id", "name", "priceMinor", "durationDays", "multiplier", "segmentPrices");
                var id = Id(element, "id", path + ".id");
                if (id is not null && !_membershipIds.Add(id))
                {
                    Error(path + ".id", $"duplicate membership id '{id}'");
                }

                var price = Long(element, "priceMinor", path + ".priceMinor", 0, long.MaxValue, required: true);
                var days = Long(element, "durationDays", path + ".durationDays", 1, 3660, required: true);
                var multiplier = BasisPoints(element, "multiplier", path + ".multiplier") ?? 10_000;
                var segmentPrices = SegmentPrices(element, path + ".segmentPrices");
                if (id is not null && price is not null && days is not null)
                {
                    plans.Add(new MembershipPlan(id, String(element, "name", path + ".name") ?? id, price.Value, (int)days.Value, multiplier)
                    {
                        SegmentPrices = segmentPrices,
                    });
                }
            }

            return plans;
        }

        private List<SegmentPrice> SegmentPrices(JsonElement plan, string path)
        {
            var prices = new List<SegmentPrice>();
            if (Array(plan, "segmentPrices", path) is not { } array)
            {
                return prices;
            }

            var segments = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var element in array.EnumerateArray())
            {
                var at = $"{path}[{index++}]";
                if (!IsObject(element, at))
                {
                    continue;
                }

                Known(element, at, "segment", "priceMinor");
                var segment = String(element, "segment", at + ".segment", required: true);
                if (segment is not null && !segments.Add(segment))
                {
                    Error(at + ".segment", $"'{segment}' already has a price");
                }

                var price = Long(element, "priceMinor", at + ".priceMinor", 0, long.MaxValue, required: true);
                if (segment is not null && price is not null)
                {
                    prices.Add(new SegmentPrice(segment, price.Value));
                }
            }

            return prices;
        }

        private List<Campaign> Campaigns(JsonElement root, List<Rule> rules)
        {
            var campaigns = new List<Campaign>();
            if (Array(root, "campaigns", "campaigns") is not { } array)
            {
                return campaigns;
            }

            var ids = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var element in array.EnumerateArray())
            {
                var path = $"campaigns[{index++}]";
                if (!IsObject(element, path))
                {
                    continue;
                }

                Known(element, path, "id", "name", "window", "stores", "channels", "segments", "budget", "perMemberCap", "rules");
                var id = Id(element, "id", path + ".id");
                if (id is not null && !ids.Add(id))
                {
                    Error(path + ".id", $"duplicate campaign id '{id}'");
                }

                // Reward stock shares the budgets' keys and ledger draws under this prefix.
                if (lint && id is not null && id.StartsWith(Reward.StockPrefix, StringComparison.Ordinal))
                {
                    Error(path + ".id", $"'{Reward.StockPrefix}' starts reward stock ids, not campaign ids");
                }

                var scope = new List<Condition>();
                if (Window(element, path) is { } window)
                {
                    scope.Add(window);
                }

                if (Strings(element, "stores", path + ".stores") is { Count: > 0 } stores)
                {
                    scope.Add(new StoreCondition(stores));
                }

                if (Channels(element, "channels", path + ".channels") is { } channels)
                {
                    scope.Add(channels);
                }

                if (Strings(element, "segments", path + ".segments") is { Count: > 0 } segments)
                {
                    scope.Add(new SegmentCondition([.. segments]));
                }

                var budget = Long(element, "budget", path + ".budget", 0, long.MaxValue);
                var cap = Long(element, "perMemberCap", path + ".perMemberCap", 0, long.MaxValue);
                var campaign = new Campaign(id ?? "?", String(element, "name", path + ".name") ?? id ?? "?", campaigns.Count, new AllCondition([.. scope]), budget, cap);
                campaigns.Add(campaign);
                if (Array(element, "rules", path + ".rules", required: true) is { } ruleArray)
                {
                    var ruleIndex = 0;
                    foreach (var ruleElement in ruleArray.EnumerateArray())
                    {
                        if (Rule(ruleElement, $"{path}.rules[{ruleIndex++}]") is { } rule)
                        {
                            rule.Campaign = campaign;
                            rules.Add(rule);
                        }
                    }

                    if (ruleIndex == 0)
                    {
                        Error(path + ".rules", "a campaign needs at least one rule");
                    }
                }
            }

            return campaigns;
        }

        private Rule? Rule(JsonElement element, string path)
        {
            if (!IsObject(element, path))
            {
                return null;
            }

            Known(element, path, "id", "name", "type", "factor", "points", "lines", "when", "window", "stop", "minimumSpend", "event", "limit", "reached");
            var id = Id(element, "id", path + ".id");
            if (id is not null && (!_ruleIds.Add(id) || id.StartsWith("tier:", StringComparison.Ordinal) || id.StartsWith("membership:", StringComparison.Ordinal)))
            {
                Error(path + ".id", $"'{id}' is already used (rule ids are unique; base-earn, referral, tier:* and membership:* are reserved)");
            }

            var name = String(element, "name", path + ".name");
            var conditions = new List<Condition>();
            if (Window(element, path) is { } window)
            {
                conditions.Add(window);
            }

            // An event has no basket, channel or store: conditions on them would silently never hold, so they are refused.
            _eventConditions = element.TryGetProperty("type", out var typeElement) && typeElement.ValueKind == JsonValueKind.String
                && typeElement.GetString() == "event";
            if (element.TryGetProperty("when", out var when) && Condition(when, path + ".when") is { } condition)
            {
                conditions.Add(condition);
            }

            _eventConditions = false;

            var combined = conditions.Count switch
            {
                0 => null,
                1 => conditions[0],
                _ => new AllCondition([.. conditions]),
            };
            var stop = Bool(element, "stop", path + ".stop") ?? false;
            var minimumSpend = Long(element, "minimumSpend", path + ".minimumSpend", 0, long.MaxValue) ?? 0;
            var type = String(element, "type", path + ".type", required: true);
            if (type is "multiplier" or "bonus")
            {
                foreach (var eventOnly in (string[])["event", "limit", "reached"])
                {
                    if (element.TryGetProperty(eventOnly, out _))
                    {
                        Error($"{path}.{eventOnly}", "only for event rules");
                    }
                }
            }

            switch (type)
            {
                case "multiplier":
                    var factor = BasisPoints(element, "factor", path + ".factor", required: true);
                    var lines = element.TryGetProperty("lines", out var linesElement) ? Filter(linesElement, path + ".lines") : null;
                    return id is null || factor is null
                        ? null
                        : new MultiplierRule(id, name ?? $"x{Multiplier.Format(factor.Value)} bonus", combined, stop, factor.Value, lines) { MinimumSpendMinor = minimumSpend };
                case "bonus":
                    var points = Long(element, "points", path + ".points", 1, 100_000_000, required: true);
                    return id is null || points is null
                        ? null
                        : new BonusRule(id, name ?? $"{points} bonus points", combined, stop, points.Value) { MinimumSpendMinor = minimumSpend };
                case "event":
                    return EventRule(element, path, id, name, combined, stop);
                case null:
                    return null;
                default:
                    Error(path + ".type", "one of multiplier, bonus, event");
                    return null;
            }
        }

        private void Events(JsonElement root)
        {
            if (Array(root, "events", "events") is not { } array)
            {
                return;
            }

            var index = 0;
            foreach (var element in array.EnumerateArray())
            {
                var path = $"events[{index++}]";
                var name = element.ValueKind == JsonValueKind.String ? element.GetString() : null;
                if (name is null || !Identifier().IsMatch(name))
                {
                    Error(path, "an event name: 1-64 characters of letters, digits, '.', '_', ':' or '-'");
                }
                else if (EventNames.Standard.Contains(name) || EventNames.BuiltIn.Contains(name))
                {
                    Error(path, $"'{name}' is a standard event and needs no declaration");
                }
                else if (!_declaredEvents.Add(name))
                {
                    Error(path, $"'{name}' is declared twice");
                }
            }
        }

        private EventRule? EventRule(JsonElement element, string path, string? id, string? name, Condition? when, bool stop)
        {
            foreach (var purchaseOnly in (string[])["factor", "lines", "minimumSpend"])
            {
                if (element.TryGetProperty(purchaseOnly, out _))
                {
                    Error($"{path}.{purchaseOnly}", "not used by event rules");
                }
            }

            var eventName = String(element, "event", path + ".event", required: true);
            if (eventName is not null && !EventNames.Standard.Contains(eventName) && !EventNames.BuiltIn.Contains(eventName) && !_declaredEvents.Contains(eventName))
            {
                var known = EventNames.Standard.Concat(EventNames.BuiltIn).Order(StringComparer.Ordinal);
                Error(path + ".event", $"'{eventName}' is neither a standard event ({string.Join(", ", known)}) nor declared in events");
                eventName = null;
            }

            var reached = new HashSet<string>(StringComparer.Ordinal);
            if (element.TryGetProperty("reached", out _))
            {
                if (eventName != EventNames.TierReached)
                {
                    Error(path + ".reached", "only for tier_reached rules");
                }

                foreach (var tier in Strings(element, "reached", path + ".reached") ?? [])
                {
                    if (!_tierIds.Contains(tier))
                    {
                        Error(path + ".reached", $"unknown tier '{tier}'");
                    }

                    reached.Add(tier);
                }
            }

            var points = Long(element, "points", path + ".points", 1, 100_000_000, required: true);
            EventLimit? limit = null;
            if (Object(element, "limit", path + ".limit") is { } limitElement)
            {
                Known(limitElement, path + ".limit", "count", "period");
                var count = Long(limitElement, "count", path + ".limit.count", 1, 1_000_000, required: true);
                PeriodUnit? period = limitElement.TryGetProperty("period", out _) ? Period(limitElement, "period", path + ".limit.period") : null;
                limit = count is null ? null : new EventLimit((int)count.Value, period);
            }

            return id is null || eventName is null || points is null
                ? null
                : new EventRule(id, name ?? $"{points} points for {eventName}", when, stop, eventName, points.Value, limit) { Reached = reached };
        }

        private List<Objective> Objectives(JsonElement root)
        {
            var objectives = new List<Objective>();
            if (Array(root, "objectives", "objectives") is not { } array)
            {
                return objectives;
            }

            var index = 0;
            foreach (var element in array.EnumerateArray())
            {
                var path = $"objectives[{index++}]";
                if (!IsObject(element, path))
                {
                    continue;
                }

                Known(element, path, "id", "name", "steps");
                var id = Id(element, "id", path + ".id");
                var name = String(element, "name", path + ".name") ?? id ?? "?";
                var steps = new List<ObjectiveStep>();
                if (Array(element, "steps", path + ".steps", required: true) is { } stepArray)
                {
                    var stepIndex = 0;
                    var previous = 0L;
                    foreach (var step in stepArray.EnumerateArray())
                    {
                        var stepPath = $"{path}.steps[{stepIndex++}]";
                        if (!IsObject(step, stepPath))
                        {
                            continue;
                        }

                        Known(step, stepPath, "percent", "points");
                        var percent = Long(step, "percent", stepPath + ".percent", 1, 1000, required: true);
                        var points = Long(step, "points", stepPath + ".points", 1, 100_000_000, required: true);
                        if (percent is { } p && p <= previous)
                        {
                            Error(stepPath + ".percent", "steps must be in increasing order of percent");
                        }

                        if (percent is not null && points is not null && id is not null)
                        {
                            var ruleId = $"{id}@{percent}";
                            if (!_ruleIds.Add(ruleId))
                            {
                                Error(stepPath + ".percent", $"rule id '{ruleId}' is already used");
                            }

                            steps.Add(new ObjectiveStep((int)percent.Value, points.Value, ruleId, $"{name}: {percent}% of the reference revenue reached"));
                            previous = percent.Value;
                        }
                    }

                    if (stepIndex == 0)
                    {
                        Error(path + ".steps", "at least one step is required");
                    }
                }

                if (id is not null)
                {
                    objectives.Add(new Objective(id, name, [.. steps]));
                }
            }

            return objectives;
        }

        private ExpiryPolicy Expiry(JsonElement root)
        {
            if (Object(root, "expiry", "expiry") is not { } expiry)
            {
                return ExpiryPolicy.Never;
            }

            Known(expiry, "expiry", "months", "endOf", "periodsAfter", "extendOnActivity");
            var extend = Bool(expiry, "extendOnActivity", "expiry.extendOnActivity") ?? false;
            var months = Long(expiry, "months", "expiry.months", 1, 1200);
            var endOf = String(expiry, "endOf", "expiry.endOf");
            if (months is not null && endOf is not null)
            {
                Error("expiry", "either months or endOf, not both");
                return ExpiryPolicy.Never;
            }

            if (months is { } count)
            {
                if (expiry.TryGetProperty("periodsAfter", out _))
                {
                    Error("expiry.periodsAfter", "only with endOf");
                }

                return ExpiryPolicy.AfterMonths((int)count, extend);
            }

            if (endOf is null)
            {
                Error("expiry", "months or endOf is required");
                return ExpiryPolicy.Never;
            }

            var period = endOf switch
            {
                "month" => ExpiryPeriod.Month,
                "quarter" => ExpiryPeriod.Quarter,
                "year" => ExpiryPeriod.Year,
                _ => Invalid("expiry.endOf", "one of month, quarter, year", ExpiryPeriod.Year),
            };
            var after = Long(expiry, "periodsAfter", "expiry.periodsAfter", 0, 100) ?? 0;
            return ExpiryPolicy.EndOfPeriod(period, (int)after, extend);
        }

        private List<Reward> Rewards(JsonElement root)
        {
            var rewards = new List<Reward>();
            if (Array(root, "rewards", "rewards") is not { } array)
            {
                return rewards;
            }

            var ids = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var element in array.EnumerateArray())
            {
                var path = $"rewards[{index++}]";
                if (!IsObject(element, path))
                {
                    continue;
                }

                Known(element, path, "id", "name", "cost", "stock", "window", "tiers", "segments", "perMemberLimit");
                var id = Id(element, "id", path + ".id");
                if (id is not null && !ids.Add(id))
                {
                    Error(path + ".id", $"duplicate reward id '{id}'");
                }

                var name = String(element, "name", path + ".name", required: true);
                var cost = Long(element, "cost", path + ".cost", 1, long.MaxValue, required: true);
                var stock = Long(element, "stock", path + ".stock", 0, long.MaxValue);
                var window = WindowRange(element, path);
                var tiers = Strings(element, "tiers", path + ".tiers") ?? [];
                foreach (var tier in tiers.Where(t => !_tierIds.Contains(t)))
                {
                    Error(path + ".tiers", $"unknown tier '{tier}'");
                }

                var segments = Strings(element, "segments", path + ".segments") ?? [];
                var limit = Long(element, "perMemberLimit", path + ".perMemberLimit", 1, long.MaxValue);
                if (id is not null && name is not null && cost is not null)
                {
                    rewards.Add(new Reward(id, name, cost.Value, stock, window?.Start, window?.End, tiers, segments, limit));
                }
            }

            return rewards;
        }

        private NudgePolicy Nudge(JsonElement root)
        {
            if (Object(root, "nudge", "nudge") is not { } nudge)
            {
                return NudgePolicy.Default;
            }

            Known(nudge, "nudge", "choose", "maxPointsNeeded");
            var choice = String(nudge, "choose", "nudge.choose") switch
            {
                null or "closest" => NudgeChoice.Closest,
                "first" => NudgeChoice.First,
                "none" => NudgeChoice.None,
                _ => Invalid("nudge.choose", "one of closest, first, none", NudgeChoice.Closest),
            };
            return new NudgePolicy(choice, Long(nudge, "maxPointsNeeded", "nudge.maxPointsNeeded", 1, long.MaxValue));
        }

        private ReferralPolicy? Referral(JsonElement root)
        {
            if (Object(root, "referral", "referral") is not { } element)
            {
                return null;
            }

            Known(element, "referral", "referrerPoints", "refereePoints", "minimumSpend");
            var referrer = Long(element, "referrerPoints", "referral.referrerPoints", 0, 100_000_000, required: true);
            var referee = Long(element, "refereePoints", "referral.refereePoints", 0, 100_000_000, required: true);
            var minimum = Long(element, "minimumSpend", "referral.minimumSpend", 0, long.MaxValue) ?? 0;
            return referrer is null || referee is null ? null : new ReferralPolicy(referrer.Value, referee.Value, minimum);
        }

        private WindowCondition? Window(JsonElement owner, string ownerPath) =>
            WindowRange(owner, ownerPath) is { } range ? new WindowCondition(range.Start, range.End) : null;

        private (DateTimeOffset Start, DateTimeOffset End)? WindowRange(JsonElement owner, string ownerPath)
        {
            if (Object(owner, "window", ownerPath + ".window") is not { } window)
            {
                return null;
            }

            var path = ownerPath + ".window";
            Known(window, path, "start", "end", "timeZone");
            var zone = TimeZone(window, "timeZone", path + ".timeZone") ?? _timeZone;
            var start = LocalDateTime(window, "start", path + ".start", required: true);
            var end = LocalDateTime(window, "end", path + ".end", required: true);
            if (start is null || end is null)
            {
                return null;
            }

            if (end <= start)
            {
                Error(path + ".end", "before start");
                return null;
            }

            var calendar = new ProgramCalendar(zone);
            return (calendar.Instant(start.Value), calendar.Instant(end.Value));
        }

        private Condition? Condition(JsonElement element, string path)
        {
            if (!IsObject(element, path))
            {
                return null;
            }

            var properties = element.EnumerateObject().ToList();
            if (properties.Count != 1)
            {
                Error(path, "a condition has exactly one key (all, any, not, channels, stores, tiers, segments, membership, basketTotalAtLeast, basketContains, daysOfWeek, timeOfDay, enrolledWithinDays, enrolledBefore, referred, lifetimeSpendAtLeast, firstPurchase, nthPurchase)");
                return null;
            }

            var property = properties[0];
            var value = property.Value;
            var at = $"{path}.{property.Name}";
            if (_eventConditions && PurchaseConditions.Contains(property.Name))
            {
                Error(at, "a condition on the purchase, which event rules do not have");
                return null;
            }

            switch (property.Name)
            {
                case "all":
                case "any":
                    if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0)
                    {
                        Error(at, "a non-empty array of conditions");
                        return null;
                    }

                    var parts = value.EnumerateArray().Select((c, i) => Condition(c, $"{at}[{i}]")).ToList();
                    return parts.Any(p => p is null) ? null : property.Name == "all" ? new AllCondition([.. parts!]) : new AnyCondition([.. parts!]);
                case "not":
                    return Condition(value, at) is { } inner ? new NotCondition(inner) : null;
                case "channels":
                    return value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 0
                        ? Invalid<Condition?>(at, "a non-empty array of channels", null)
                        : Channels(element, "channels", at);
                case "stores":
                    return Strings(element, "stores", at) is { Count: > 0 } stores ? new StoreCondition(stores) : Invalid<Condition?>(at, "a non-empty array of store ids", null);
                case "tiers":
                    var tiers = Strings(element, "tiers", at);
                    foreach (var tier in tiers ?? [])
                    {
                        if (!_tierIds.Contains(tier))
                        {
                            Error(at, $"unknown tier '{tier}'");
                        }
                    }

                    return tiers is { Count: > 0 } ? new TierCondition(tiers) : Invalid<Condition?>(at, "a non-empty array of tier ids", null);
                case "segments":
                    return Strings(element, "segments", at) is { Count: > 0 } segments ? new SegmentCondition([.. segments]) : Invalid<Condition?>(at, "a non-empty array of segments", null);
                case "membership":
                    var membership = String(element, "membership", at, required: true);
                    if (membership is not null && !_membershipIds.Contains(membership))
                    {
                        Error(at, $"unknown membership '{membership}' (declare memberships before rules use them)");
                    }

                    return membership is null ? null : new MembershipCondition(membership);
                case "basketTotalAtLeast":
                    return Long(element, "basketTotalAtLeast", at, 0, long.MaxValue, required: true) is { } total ? new BasketTotalCondition(total) : null;
                case "basketContains":
                    return Filter(value, at) is { } filter ? new BasketContainsCondition(filter) : null;
                case "daysOfWeek":
                    var days = 0;
                    var unknownDay = false;
                    foreach (var day in Strings(element, "daysOfWeek", at) ?? [])
                    {
                        // Exact names only: Enum.TryParse would also take "monday,tuesday" or "2".
                        var index = System.Array.FindIndex(DayNames, name => string.Equals(name, day, StringComparison.OrdinalIgnoreCase));
                        if (index >= 0 && (days & (1 << index)) != 0 && lint)
                        {
                            Error(at, $"'{day}' is listed twice");
                        }
                        else if (index >= 0)
                        {
                            days |= 1 << index;
                        }
                        else
                        {
                            unknownDay = true;
                            Error(at, $"'{day}' is not a day of the week");
                        }
                    }

                    return unknownDay ? null
                        : days == 0 ? Invalid<Condition?>(at, "a non-empty array of days (monday...sunday)", null)
                        : new DayOfWeekCondition(days);
                case "timeOfDay":
                    if (Object(element, "timeOfDay", at) is not { } range)
                    {
                        return null;
                    }

                    Known(range, at, "from", "to");
                    var from = Time(range, "from", at + ".from");
                    var to = Time(range, "to", at + ".to");
                    return from is null || to is null ? null
                        : from == to && lint ? Invalid<Condition?>(at, "from and to must differ (leave the condition out for the whole day)", null)
                        : new TimeOfDayCondition(from.Value, to.Value);
                case "enrolledWithinDays":
                    return Long(element, "enrolledWithinDays", at, 1, 36_500, required: true) is { } within ? new EnrolledWithinDaysCondition((int)within) : null;
                case "enrolledBefore":
                    return LocalDateTime(element, "enrolledBefore", at, required: true) is { } before ? new EnrolledBeforeCondition(new ProgramCalendar(_timeZone).Instant(before)) : null;
                case "referred":
                    return Bool(element, "referred", at) is { } referred ? new ReferredCondition(referred) : null;
                case "lifetimeSpendAtLeast":
                    return Long(element, "lifetimeSpendAtLeast", at, 0, long.MaxValue, required: true) is { } spend ? new LifetimeSpendCondition(spend) : null;
                case "firstPurchase":
                    return Bool(element, "firstPurchase", at) == true ? new FirstPurchaseCondition() : Invalid<Condition?>(at, "true (use not for the opposite)", null);
                case "nthPurchase":
                    if (Object(element, "nthPurchase", at) is not { } nth)
                    {
                        return null;
                    }

                    Known(nth, at, "n", "period");
                    var n = Long(nth, "n", at + ".n", 1, 10_000, required: true);
                    var unit = Period(nth, "period", at + ".period");
                    if (n is null || unit is null)
                    {
                        return null;
                    }

                    _nthUnits.Add(unit.Value);
                    return new NthPurchaseCondition((int)n.Value, unit.Value);
                default:
                    Error(at, "unknown condition");
                    return null;
            }
        }

        private ChannelCondition? Channels(JsonElement owner, string name, string path)
        {
            var names = Strings(owner, name, path);
            if (names is null)
            {
                return null;
            }

            var mask = 0;
            foreach (var channel in names)
            {
                var index = System.Array.IndexOf(ChannelNames, channel);
                if (index <= 0)
                {
                    Error(path, $"unknown channel '{channel}' (store, web, mobile_app, partner, call_center)");
                }
                else
                {
                    mask |= 1 << index;
                }
            }

            return mask == 0 ? null : new ChannelCondition(mask);
        }

        private LineFilter? Filter(JsonElement element, string path)
        {
            if (!IsObject(element, path))
            {
                return null;
            }

            Known(element, path, "categories", "brands", "skus", "labels", "exceptLabels");
            var categories = Strings(element, "categories", path + ".categories");
            var brands = Strings(element, "brands", path + ".brands");
            var skus = Strings(element, "skus", path + ".skus");
            var labels = Labels(element, "labels", path + ".labels");
            var exceptLabels = Labels(element, "exceptLabels", path + ".exceptLabels");
            if (categories is null && brands is null && skus is null && labels is null && exceptLabels is null)
            {
                Error(path, "name at least one of categories, brands, skus, labels, exceptLabels");
                return null;
            }

            return new LineFilter(categories, brands, skus, labels, exceptLabels);
        }

        /// <summary>An object of label keys, each with a non-empty array of the values it accepts ("*": any value).</summary>
        private LabelSelector? Labels(JsonElement owner, string name, string path)
        {
            if (Object(owner, name, path) is not { } element)
            {
                return null;
            }

            var wanted = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
            var valid = true;
            foreach (var label in element.EnumerateObject())
            {
                if (!Identifier().IsMatch(label.Name))
                {
                    Error($"{path}.{label.Name}", "a label key is 1-64 characters of letters, digits, '.', '_', ':' or '-'");
                    valid = false;
                }
                else if (Strings(element, label.Name, $"{path}.{label.Name}") is not { } values)
                {
                    valid = false;
                }
                else if (values.Count == 0)
                {
                    Error($"{path}.{label.Name}", "an array of at least one accepted value (\"*\" accepts any)");
                    valid = false;
                }
                else
                {
                    wanted[label.Name] = values;
                }
            }

            if (valid && wanted.Count == 0)
            {
                Error(path, "name at least one label key");
            }

            return valid && wanted.Count > 0 ? new LabelSelector(wanted) : null;
        }

        private PeriodUnit? Period(JsonElement owner, string name, string path) => String(owner, name, path, required: true) switch
        {
            "day" => PeriodUnit.Day,
            "week" => PeriodUnit.Week,
            "month" => PeriodUnit.Month,
            "year" => PeriodUnit.Year,
            null => null,
            _ => Invalid<PeriodUnit?>(path, "one of day, week, month, year", null),
        };

        private RoundingMode Rounding(JsonElement owner, string name, string path) => String(owner, name, path) switch
        {
            null or "floor" => RoundingMode.Floor,
            "ceiling" => RoundingMode.Ceiling,
            "half_up" => RoundingMode.HalfUp,
            "half_even" => RoundingMode.HalfEven,
            _ => Invalid(path, "one of floor, ceiling, half_up, half_even", RoundingMode.Floor),
        };

        private TimeZoneInfo? TimeZone(JsonElement owner, string name, string path)
        {
            if (String(owner, name, path) is not { } id)
            {
                return null;
            }

            try
            {
                return TimeZoneInfo.FindSystemTimeZoneById(id);
            }
            catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException or System.Security.SecurityException or ArgumentException)
            {
                Error(path, $"unknown time zone '{id}' (use an IANA name such as Europe/Paris)");
                return null;
            }
        }

        private DateTime? LocalDateTime(JsonElement owner, string name, string path, bool required)
        {
            if (String(owner, name, path, required) is not { } text)
            {
                return null;
            }

            if (DateTime.TryParseExact(text, ["yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm", "yyyy-MM-dd"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var value))
            {
                return value;
            }

            Error(path, "a local date or date-time, yyyy-MM-dd[THH:mm[:ss]] (the time zone is separate)");
            return null;
        }

        private TimeSpan? Time(JsonElement owner, string name, string path)
        {
            if (String(owner, name, path, required: true) is not { } text)
            {
                return null;
            }

            if (TimeOnly.TryParseExact(text, ["HH:mm", "HH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
            {
                return time.ToTimeSpan();
            }

            Error(path, "a time of day, HH:mm");
            return null;
        }

        private int? BasisPoints(JsonElement owner, string name, string path, bool required = false)
        {
            if (!owner.TryGetProperty(name, out var value))
            {
                if (required)
                {
                    Error(path, "required");
                }

                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var factor) || factor < 1m || factor > 100m
                || factor * 10_000m != decimal.Truncate(factor * 10_000m))
            {
                Error(path, "a number between 1 and 100 with at most 4 decimals");
                return null;
            }

            return (int)(factor * 10_000m);
        }

        private string? Id(JsonElement owner, string name, string path)
        {
            var value = String(owner, name, path, required: true);
            if (value is not null && !Identifier().IsMatch(value))
            {
                Error(path, "1-64 characters of letters, digits, '.', '_', ':' or '-'");
                return null;
            }

            return value;
        }

        private string? String(JsonElement owner, string name, string path, bool required = false)
        {
            if (!owner.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                if (required)
                {
                    Error(path, "required");
                }

                return null;
            }

            if (value.ValueKind != JsonValueKind.String || value.GetString() is not { Length: > 0 } text)
            {
                Error(path, "a non-empty string");
                return null;
            }

            return text;
        }

        private HashSet<string>? Strings(JsonElement owner, string name, string path)
        {
            if (!owner.TryGetProperty(name, out var value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String || v.GetString() is not { Length: > 0 }))
            {
                Error(path, "an array of non-empty strings");
                return null;
            }

            var set = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in value.EnumerateArray())
            {
                // A repeated entry is almost always a typo for another one; saying so beats merging it silently.
                if (!set.Add(item.GetString()!) && lint)
                {
                    Error(path, $"'{item.GetString()}' is listed twice");
                }
            }

            return set;
        }

        private long? Long(JsonElement owner, string name, string path, long min, long max, bool required = false)
        {
            if (!owner.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                if (required)
                {
                    Error(path, "required");
                }

                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number) || number < min || number > max)
            {
                Error(path, max == long.MaxValue ? $"a whole number, at least {min}" : $"a whole number from {min} to {max}");
                return null;
            }

            return number;
        }

        private bool? Bool(JsonElement owner, string name, string path)
        {
            if (!owner.TryGetProperty(name, out var value))
            {
                return null;
            }

            if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                Error(path, "true or false");
                return null;
            }

            return value.GetBoolean();
        }

        private JsonElement? Object(JsonElement owner, string name, string path, bool required = false)
        {
            if (!owner.TryGetProperty(name, out var value))
            {
                if (required)
                {
                    Error(path, "required");
                }

                return null;
            }

            return IsObject(value, path) ? value : null;
        }

        private JsonElement? Array(JsonElement owner, string name, string path, bool required = false)
        {
            if (!owner.TryGetProperty(name, out var value))
            {
                if (required)
                {
                    Error(path, "required");
                }

                return null;
            }

            if (value.ValueKind != JsonValueKind.Array)
            {
                Error(path, "an array");
                return null;
            }

            return value;
        }

        private bool IsObject(JsonElement element, string path)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                return true;
            }

            Error(path, "an object");
            return false;
        }

        private void Known(JsonElement element, string path, params string[] names)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (System.Array.IndexOf(names, property.Name) < 0)
                {
                    Error(path == "$" ? property.Name : $"{path}.{property.Name}", "unknown field");
                }
            }
        }

        private T Invalid<T>(string path, string expected, T fallback)
        {
            Error(path, expected);
            return fallback;
        }

        private void Error(string path, string reason) => Errors.Add($"{path}: {reason}");
    }
}
