using LoyaltyCore.Engine.Calendar;
using LoyaltyCore.Engine.Rules;

namespace LoyaltyCore.Engine.Scoring;

/// <summary>
/// The counter keys and period numbers of one local date for one program, built once per date and shared by every
/// evaluation on that date, so scoring formats no key strings.
/// </summary>
internal sealed class PeriodCounterKeys
{
    private readonly string?[] _purchases = new string?[4];
    private readonly string[][] _objectiveSteps;

    public PeriodCounterKeys(DateTime local, bool dailyCap, IReadOnlyList<PeriodUnit> nthUnits, IReadOnlyList<Objective> objectives)
    {
        Date = local.Date;
        DayKey = ProgramCalendar.PeriodKey(local, PeriodUnit.Day);
        WeekKey = ProgramCalendar.PeriodKey(local, PeriodUnit.Week);
        MonthKey = ProgramCalendar.PeriodKey(local, PeriodUnit.Month);
        Year = local.Year;
        var (oldestYear, oldestMonth) = ProgramCalendar.AddMonths(local.Year, local.Month, -(Tiers.TierPolicy.MonthsKept - 1));
        OldestMonthKept = ProgramCalendar.MonthKey(oldestYear, oldestMonth);
        DailyPoints = dailyCap ? CounterKeys.DailyPoints(DayKey) : null;
        foreach (var unit in nthUnits)
        {
            _purchases[(int)unit] = CounterKeys.Purchases(unit, ProgramCalendar.PeriodKey(local, unit));
        }

        YearSpend = CounterKeys.YearSpend(Year);
        _objectiveSteps = [.. objectives.Select(o => o.Steps.Select(s => CounterKeys.ObjectiveStep(o.Id, Year, s.Percent)).ToArray())];
    }

    public DateTime Date { get; }

    public int DayKey { get; }

    public int WeekKey { get; }

    public int MonthKey { get; }

    public int Year { get; }

    public int OldestMonthKept { get; }

    /// <summary>Null when the program has no daily cap.</summary>
    public string? DailyPoints { get; }

    public string YearSpend { get; }

    public string Purchases(PeriodUnit unit) => _purchases[(int)unit] ?? CounterKeys.Purchases(unit, unit switch
    {
        PeriodUnit.Day => DayKey,
        PeriodUnit.Week => WeekKey,
        PeriodUnit.Month => MonthKey,
        _ => Year,
    });

    public string ObjectiveStep(int objective, int step) => _objectiveSteps[objective][step];
}
