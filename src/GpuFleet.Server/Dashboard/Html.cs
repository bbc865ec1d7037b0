using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// A piece of HTML that is safe to send: every value put into it through an interpolated string is
/// HTML-encoded unless it is itself <see cref="Html"/>, so a job name such as <c>&lt;script&gt;</c>
/// reaches the page as text. Example: <c>Html.Of($"&lt;td&gt;{job.Name}&lt;/td&gt;")</c> with the name
/// <c>a&lt;b</c> is <c>&lt;td&gt;a&amp;lt;b&lt;/td&gt;</c>; <c>Html.Of($"&lt;tr&gt;{cells}&lt;/tr&gt;")</c> with
/// <c>cells</c> an <see cref="Html"/> keeps its markup.
/// </summary>
internal sealed class Html
{
    private Html(string text) => Text = text;

    /// <summary>The markup.</summary>
    public string Text { get; }

    /// <summary>Nothing.</summary>
    public static Html Empty { get; } = new("");

    /// <summary>The markup of an interpolated string whose values are encoded.</summary>
    public static Html Of([InterpolatedStringHandlerArgument] ref Builder builder) => new(builder.ToString());

    /// <summary>Markup written in this source file, never anything a user gave.</summary>
    public static Html Raw(string markup) => new(markup);

    /// <summary>The pieces one after the other.</summary>
    public static Html Join(IEnumerable<Html> pieces) => new(string.Concat(pieces.Select(p => p.Text)));

    /// <inheritdoc/>
    public override string ToString() => Text;

    /// <summary>Builds an <see cref="Html"/>: literal parts as they are, values encoded.</summary>
    [InterpolatedStringHandler]
    public ref struct Builder
    {
        private readonly StringBuilder _text;

        /// <summary>Starts one.</summary>
        public Builder(int literalLength, int formattedCount) => _text = new StringBuilder(literalLength + formattedCount * 16);

        /// <summary>A literal part: markup of this source.</summary>
        public readonly void AppendLiteral(string s) => _text.Append(s);

        /// <summary>A value: encoded, unless it is markup already.</summary>
        public readonly void AppendFormatted<T>(T value)
        {
            if (value is Html html) _text.Append(html.Text);
            else if (value is IFormattable f) _text.Append(HtmlEncoder.Default.Encode(f.ToString(null, System.Globalization.CultureInfo.InvariantCulture)));
            else if (value is not null) _text.Append(HtmlEncoder.Default.Encode(value.ToString() ?? ""));
        }

        /// <summary>A formatted value, encoded.</summary>
        public readonly void AppendFormatted<T>(T value, string format) where T : IFormattable =>
            _text.Append(HtmlEncoder.Default.Encode(value.ToString(format, System.Globalization.CultureInfo.InvariantCulture)));

        /// <inheritdoc/>
        public override readonly string ToString() => _text.ToString();
    }
}
