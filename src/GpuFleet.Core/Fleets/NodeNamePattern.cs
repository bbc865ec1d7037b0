using System.Globalization;

namespace GpuFleet.Core.Fleets;

/// <summary>
/// How the nodes of one pool specification are named: a fixed <see cref="Prefix"/> and a counter that
/// starts at <see cref="First"/>, zero-padded to <see cref="Width"/> digits (<c>sejong-gb200-0001</c>,
/// <c>sejong-gb200-0002</c>, ...). A fleet keeps one pattern per pool specification, not a string per
/// node: names are built only when printed.
/// </summary>
/// <remarks>
/// The counter always ends the name and the prefix never ends in a digit, so a name splits back into
/// prefix and number in exactly one way; that is what lets names compress into Slurm host lists
/// (<c>sejong-gb200-[0001-0072]</c>) and be looked up without a table.
/// </remarks>
/// <param name="Prefix">Text before the counter; never empty, never ending in a digit.</param>
/// <param name="First">Number of the first node.</param>
/// <param name="Width">Digits the counter is padded to (1: not padded).</param>
public sealed record NodeNamePattern(string Prefix, int First, int Width)
{
    /// <summary>The pattern of a pool that names none: site and model, lowercased, and a four-digit counter from 0001.</summary>
    public const string Default = "{site}-{model}-{0001}";

    /// <summary>Most digits of a counter (its number must fit an <see cref="int"/>).</summary>
    public const int MaxWidth = 9;

    /// <summary>Name of the node at <paramref name="index"/> (0-based) within the pool specification.</summary>
    public string Name(int index) => Prefix + Number(First + index, Width);

    /// <summary>The counter as written in a name: <paramref name="number"/> zero-padded to <paramref name="width"/> digits.</summary>
    public static string Number(int number, int width) => number.ToString(width > 1 ? "D" + width.ToString(CultureInfo.InvariantCulture) : "D", CultureInfo.InvariantCulture);

    /// <summary>
    /// Reads a pattern such as <c>sejong-gb200-{0001}</c> or <c>{site}-{model}-{01}</c>: literal text,
    /// <c>{site}</c> and <c>{model}</c> (the pool's site and model names, lowercased), and one counter in
    /// braces at the end whose digits are the first node's number as it is written (<c>{0001}</c>: from 1,
    /// four digits; <c>{1}</c>: from 1, not padded; <c>{0}</c>: from 0).
    /// </summary>
    /// <returns>The pattern, or null with <paramref name="problem"/> saying what is wrong.</returns>
    public static NodeNamePattern? Parse(string pattern, string site, string model, out string problem)
    {
        problem = "";
        var open = pattern.LastIndexOf('{');
        if (open < 0 || !pattern.EndsWith('}'))
            return Fail(out problem, "must end with a counter in braces, such as {0001} (the first node's number, zero-padded to the width wanted)");
        var digits = pattern[(open + 1)..^1];
        if (digits.Length == 0 || !digits.All(char.IsAsciiDigit))
            return Fail(out problem, $"the counter at the end must be digits, such as {{0001}}, not '{{{digits}}}'");
        if (digits.Length > MaxWidth) return Fail(out problem, $"the counter has at most {MaxWidth} digits");
        var prefix = Substitute(pattern[..open], site, model, out problem);
        if (prefix is null) return null;
        if (prefix.Length == 0) return Fail(out problem, "needs text before the counter: a node name is never a bare number");
        if (char.IsAsciiDigit(prefix[^1]))
            return Fail(out problem, $"the text before the counter must not end in a digit ('{prefix}'): names would not split back into text and number; put a '-' before the counter");
        if (!char.IsAsciiLetterOrDigit(prefix[0])) return Fail(out problem, $"must start with a letter or digit, not '{prefix[0]}'");
        foreach (var c in prefix)
            if (!IsNameCharacter(c)) return Fail(out problem, $"'{c}' cannot be in a node name (letters, digits, '-', '_' and '.' can)");
        var width = digits.Length > 1 && digits[0] == '0' ? digits.Length : 1;
        return new NodeNamePattern(prefix, int.Parse(digits, CultureInfo.InvariantCulture), width);
    }

    /// <summary>Whether <paramref name="c"/> may be in a node name: letters, digits, '-', '_' and '.'.</summary>
    public static bool IsNameCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';

    /// <summary>
    /// A site or model name as it goes into a node name: lowercased, and every run of characters a
    /// hostname cannot hold turned into one '-' (site "Data Centre 1" gives "data-centre-1").
    /// </summary>
    public static string NamePart(string name)
    {
        var part = new System.Text.StringBuilder(name.Length);
        foreach (var c in name.Trim().ToLowerInvariant())
        {
            if (IsNameCharacter(c)) part.Append(c);
            else if (part.Length > 0 && part[^1] != '-') part.Append('-');
        }
        return part.ToString();
    }

    private static string? Substitute(string text, string site, string model, out string problem)
    {
        problem = "";
        var result = new System.Text.StringBuilder(text.Length + site.Length + model.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '}')
            {
                problem = "has a '}' without its '{'";
                return null;
            }
            if (text[i] != '{')
            {
                result.Append(text[i]);
                continue;
            }
            var close = text.IndexOf('}', i);
            var name = close < 0 ? text[(i + 1)..] : text[(i + 1)..close];
            if (close < 0 || name.Length == 0 || name.All(char.IsAsciiDigit))
            {
                problem = "has one counter only, at the end";
                return null;
            }
            if (name is not ("site" or "model"))
            {
                problem = $"unknown placeholder '{{{name}}}' (known: {{site}}, {{model}} and a counter such as {{0001}} at the end)";
                return null;
            }
            result.Append(NamePart(name == "site" ? site : model));
            i = close;
        }
        return result.ToString();
    }

    private static NodeNamePattern? Fail(out string problem, string text)
    {
        problem = text;
        return null;
    }
}
