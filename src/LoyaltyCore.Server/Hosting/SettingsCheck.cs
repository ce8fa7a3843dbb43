using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Hosting;

/// <summary>
/// Every options type the server binds, checked one by one before anything starts, so that all bad settings are
/// reported together: a value that does not convert ("abc" for a port) as well as one that fails validation.
/// </summary>
internal sealed class SettingsCheck
{
    private readonly List<Func<IServiceProvider, object>> _bindings = [];

    public void Add<T>()
        where T : class => _bindings.Add(static services => services.GetRequiredService<IOptions<T>>().Value);

    public IReadOnlyList<string> Problems(IServiceProvider services)
    {
        var problems = new List<string>();
        foreach (var bind in _bindings)
        {
            try
            {
                bind(services);
            }
            catch (OptionsValidationException ex)
            {
                problems.AddRange(ex.Failures);
            }
            catch (InvalidOperationException ex)
            {
                // The binder names the key and the value it could not convert.
                problems.Add(ex.InnerException is { } inner ? $"{ex.Message} {inner.Message}" : ex.Message);
            }
        }

        return problems;
    }
}
