using BenchmarkDotNet.Attributes;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;

namespace LoyaltyCore.Benchmarks;

/// <summary>
/// One evaluation of <see cref="LoyaltyProgram.Score"/>: a realistic 50-rule program against a five-line basket, and a
/// five-rule program with the same header, member and basket as the baseline. Parsing happens once, in setup.
/// </summary>
[MemoryDiagnoser]
public class ScoreBenchmarks
{
    private const int FiftyRulesFiring = 17;
    private const int FiveRulesFiring = 3;

    private LoyaltyProgram _fiftyRules = null!;
    private LoyaltyProgram _fiveRules = null!;
    private MemberState _member = null!;
    private Basket _basket = null!;
    private IReadOnlyDictionary<string, long> _budgetLimits = null!;

    [GlobalSetup]
    public void Setup()
    {
        _fiftyRules = ProgramParser.Parse(Programs.FiftyRules());
        _fiveRules = ProgramParser.Parse(Programs.FiveRules());
        _member = Purchase.Member();
        _basket = Purchase.Basket();
        _budgetLimits = Purchase.BudgetLimits();

        // Measure what the benchmark claims: the rule count, how many fire, and no cap cutting an award.
        Check(_fiftyRules, 50, FiftyRulesFiring);
        Check(_fiveRules, 5, FiveRulesFiring);
    }

    [Benchmark(Description = "Score, 50 rules")]
    public ScoreOutcome FiftyRules() => _fiftyRules.Score(_member, _basket, _budgetLimits);

    [Benchmark(Baseline = true, Description = "Score, 5 rules")]
    public ScoreOutcome FiveRules() => _fiveRules.Score(_member, _basket, _budgetLimits);

    private void Check(LoyaltyProgram program, int rules, int firing)
    {
        var outcome = program.Score(_member, _basket, _budgetLimits);
        var ruleIds = program.Rules.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var fired = outcome.Breakdown.Count(line => ruleIds.Contains(line.RuleId));
        var limited = outcome.Breakdown.Any(line => line.Reason.Contains("(limited by", StringComparison.Ordinal));
        if (program.Rules.Count != rules || fired != firing || limited)
        {
            throw new InvalidOperationException(
                $"Expected {rules} rules with {firing} firing and no cap reached; got {program.Rules.Count} rules, {fired} firing, "
                + $"limited: {limited}. Breakdown: {string.Join(", ", outcome.Breakdown.Select(l => $"{l.RuleId}={l.Points}"))}");
        }
    }
}
