using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Twin;

/// <summary>
/// Reads a twin run's inputs from a form — the Twin page's, or a <c>multipart/form-data</c> post to
/// <c>POST /api/v1/twin/runs</c> that carries a trace file — into the same <see cref="TwinRunRequest"/> the
/// JSON body is read into. Empty fields count as absent (the page sends every field, whichever source is
/// chosen); a number that is not one, or a field the request does not have, is named.
/// Example: <c>fleet=philly&amp;policies=fifo&amp;policies=backfill&amp;source=sample&amp;trace=philly-2017-10</c>.
/// </summary>
public static class TwinForm
{
    /// <summary>The fields a form may carry (besides the page's anti-forgery token).</summary>
    public static readonly IReadOnlyList<string> Fields = ["fleet", "tenants", "policies", "source", "trace", "days", "load", "seed", TwinValidator.UploadField];

    /// <summary>The request, the uploaded file if any, and the fields that could not be read.</summary>
    public static (TwinRunRequest Request, TwinUpload? Upload, Dictionary<string, string[]> Errors) Read(IFormCollection form, string? antiforgeryField)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var key in form.Keys.Concat(form.Files.Select(f => f.Name)).Distinct(StringComparer.Ordinal))
        {
            if (Fields.Contains(key) || key == antiforgeryField) continue;
            errors.TryAdd(Api.RequestText.Problem(key, 100) is null ? key : "body", [$"is not a field of this request (its fields: {string.Join(", ", Fields)})"]);
        }
        var file = form.Files.GetFile(TwinValidator.UploadField);
        var request = new TwinRunRequest
        {
            Fleet = Text(form, "fleet"),
            Tenants = Text(form, "tenants"),
            Policies = [.. form["policies"].Where(p => !string.IsNullOrWhiteSpace(p)).Select(p => p!)],
            Source = Text(form, "source"),
            Trace = Text(form, "trace"),
            Days = Number(form, "days", errors),
            Load = Number(form, "load", errors),
            Seed = Whole(form, "seed", errors),
        };
        var upload = file is null || file.Length == 0 ? null : new TwinUpload(file.FileName, file.Length, file.OpenReadStream);
        return (request, upload, errors);
    }

    private static string? Text(IFormCollection form, string field) => form[field].ToString() is { Length: > 0 } text ? text : null;

    private static double? Number(IFormCollection form, string field, Dictionary<string, string[]> errors)
    {
        if (Text(form, field) is not { } text || string.IsNullOrWhiteSpace(text)) return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)) return value;
        errors.TryAdd(field, ["must be a number (such as 7 or 0.9)"]);
        return null;
    }

    private static int? Whole(IFormCollection form, string field, Dictionary<string, string[]> errors)
    {
        if (Text(form, field) is not { } text || string.IsNullOrWhiteSpace(text)) return null;
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)) return value;
        errors.TryAdd(field, [$"must be a whole number from {int.MinValue} to {int.MaxValue}"]);
        return null;
    }
}
