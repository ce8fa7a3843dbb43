using System.Globalization;
using Google.Rpc;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.Security;
using Microsoft.AspNetCore.Authorization;

namespace LoyaltyCore.Server.Reports;

[Authorize(Roles = ClientRoles.Admin)]
internal sealed class ReportGrpcService(KpiReports reports) : ReportService.ReportServiceBase
{
    public override Task<KpiReport> GetKpiReport(GetKpiReportRequest request, ServerCallContext context)
    {
        var violations = new List<BadRequest.Types.FieldViolation>();
        var from = Day(request.From, "from", violations);
        var to = Day(request.To, "to", violations);
        if (from is { } f && to is { } t)
        {
            if (f > t)
            {
                violations.Add(new BadRequest.Types.FieldViolation { Field = "to", Description = "must not be before from" });
            }
            else if (t.DayNumber - f.DayNumber + 1 > KpiReports.MaxDays)
            {
                violations.Add(new BadRequest.Types.FieldViolation { Field = "to", Description = $"the period may cover at most {KpiReports.MaxDays} days" });
            }
        }

        if (!System.Enum.IsDefined(request.Compare))
        {
            violations.Add(new BadRequest.Types.FieldViolation { Field = "compare", Description = "must be COMPARISON_NONE or COMPARISON_PREVIOUS_YEAR" });
        }

        if (violations.Count > 0)
        {
            throw RpcErrors.InvalidArgument(violations);
        }

        return reports.BuildAsync(from!.Value, to!.Value, request.Compare, context.CancellationToken);
    }

    /// <summary>A day as YYYY-MM-DD, or a violation naming the field.</summary>
    public static DateOnly? Day(string value, string field, List<BadRequest.Types.FieldViolation> violations)
    {
        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) && day.Year > 1)
        {
            return day;
        }

        violations.Add(new BadRequest.Types.FieldViolation { Field = field, Description = value.Length == 0 ? "required, a day as YYYY-MM-DD" : "must be a day as YYYY-MM-DD" });
        return null;
    }
}
