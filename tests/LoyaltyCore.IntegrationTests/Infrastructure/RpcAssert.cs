using Google.Rpc;
using Grpc.Core;

namespace LoyaltyCore.IntegrationTests.Infrastructure;

internal static class RpcAssert
{
    public static async Task<RpcException> FailsWith(StatusCode code, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, error.StatusCode);
        return error;
    }

    /// <summary>INVALID_ARGUMENT carrying a google.rpc.BadRequest that names <paramref name="field"/>.</summary>
    public static async Task<BadRequest> RejectsField(string field, Func<Task> call)
    {
        var error = await FailsWith(StatusCode.InvalidArgument, call);
        var status = error.GetRpcStatus();
        Assert.NotNull(status);
        var badRequest = status.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        Assert.Contains(badRequest.FieldViolations, v => v.Field == field);
        return badRequest;
    }
}
