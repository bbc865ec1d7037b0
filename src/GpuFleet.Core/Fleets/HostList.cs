using System.Globalization;
using System.Text;

namespace GpuFleet.Core.Fleets;

/// <summary>
/// Host lists the way Slurm writes them: names that share a prefix and differ in a trailing number are
/// written once with their numbers as ranges in brackets, e.g. <c>sejong-gb200-[0001-0072]</c> for 72
/// nodes, <c>a-[01-04,07],b-03</c> for several ranges and prefixes. Zero padding is kept: a range whose
/// first number is written with leading zeros gives every number that many digits.
/// </summary>
public static class HostList
{
    /// <summary>Most names <see cref="Expand"/> gives, so that a short text cannot ask for billions of names.</summary>
    public const int MaxExpanded = 10_000_000;

    /// <summary>
    /// The names in host-list form: one element per prefix, in the order each prefix first appears, its
    /// numbers sorted and joined into ranges. Repeated names are written once.
    /// </summary>
    public static string Compress(IEnumerable<string> names) => string.Join(',', Elements(names));

    /// <summary>
    /// The elements of <see cref="Compress"/>: one per prefix (<c>a-[01-04,07]</c>, <c>b-03</c>), or one per
    /// name without a trailing number.
    /// </summary>
    public static IReadOnlyList<string> Elements(IEnumerable<string> names)
    {
        // Prefix → the numbers under it, as written; names without a trailing number stand alone.
        var order = new List<(string Key, bool Alone)>();
        var byPrefix = new Dictionary<string, List<(int Number, string Digits)>>(StringComparer.Ordinal);
        var alone = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (Split(name) is not { } split)
            {
                if (alone.Add(name)) order.Add((name, true));
                continue;
            }
            var (prefix, number, digits) = split;
            if (!byPrefix.TryGetValue(prefix, out var list))
            {
                byPrefix[prefix] = list = [];
                order.Add((prefix, false));
            }
            list.Add((number, digits));
        }
        return [.. order.Select(e => e.Alone ? e.Key : Element(e.Key, byPrefix[e.Key]))];
    }

    /// <summary>The names of a host list, in the order written.</summary>
    /// <exception cref="FormatException">The text is not a host list (unbalanced brackets, a bad range...).</exception>
    public static IReadOnlyList<string> Expand(string hostList)
    {
        var names = new List<string>();
        foreach (var element in TopLevel(hostList))
        {
            var open = element.IndexOf('[');
            if (open < 0)
            {
                if (element.Length == 0 || element.Contains(']')) throw Bad(hostList, $"'{element}' is not a name");
                names.Add(element);
                continue;
            }
            var close = element.IndexOf(']', open);
            if (close < 0 || element.IndexOf('[', open + 1) >= 0 || element.IndexOf(']', close + 1) >= 0)
                throw Bad(hostList, $"'{element}' has unbalanced or several brackets");
            var prefix = element[..open];
            var suffix = element[(close + 1)..];
            foreach (var range in element[(open + 1)..close].Split(','))
            {
                var dash = range.IndexOf('-');
                var lo = dash < 0 ? range : range[..dash];
                var hi = dash < 0 ? range : range[(dash + 1)..];
                if (!IsNumber(lo) || !IsNumber(hi)) throw Bad(hostList, $"'{range}' is not a number or a range of numbers");
                int from = int.Parse(lo, CultureInfo.InvariantCulture), to = int.Parse(hi, CultureInfo.InvariantCulture);
                if (to < from) throw Bad(hostList, $"range '{range}' runs backwards");
                if ((long)names.Count + to - from + 1 > MaxExpanded) throw Bad(hostList, $"names more than {MaxExpanded} hosts");
                var width = WidthOf(lo);
                for (long n = from; n <= to; n++) names.Add(prefix + NodeNamePattern.Number((int)n, width) + suffix);
            }
        }
        return names;
    }

    /// <summary>
    /// A name split into the text before its trailing number and that number (with its digits as
    /// written), or null when it does not end in a number.
    /// </summary>
    public static (string Prefix, int Number, string Digits)? Split(string name)
    {
        var start = name.Length;
        while (start > 0 && char.IsAsciiDigit(name[start - 1])) start--;
        var digits = name[start..];
        if (digits.Length is 0 or > NodeNamePattern.MaxWidth) return null;
        return (name[..start], int.Parse(digits, CultureInfo.InvariantCulture), digits);
    }

    /// <summary>Width a counter written as <paramref name="digits"/> keeps: its length when it has leading zeros, else none (1).</summary>
    public static int WidthOf(string digits) => digits.Length > 1 && digits[0] == '0' ? digits.Length : 1;

    // One prefix's numbers as "prefix[a-b,c]" (or "prefixN" for a single one): sorted, repeated ones
    // dropped, and a run continued only while the next number is written the way the run writes them.
    private static string Element(string prefix, List<(int Number, string Digits)> numbers)
    {
        numbers.Sort((x, y) => x.Number != y.Number ? x.Number.CompareTo(y.Number) : string.CompareOrdinal(x.Digits, y.Digits));
        var ranges = new List<(string From, string To)>();
        int last = 0, width = 1;
        string? lastDigits = null;
        foreach (var (number, digits) in numbers)
        {
            if (digits == lastDigits) continue;
            if (lastDigits is not null && number == last + 1 && NodeNamePattern.Number(number, width) == digits)
                ranges[^1] = (ranges[^1].From, digits);
            else
            {
                ranges.Add((digits, digits));
                width = WidthOf(digits);
            }
            last = number;
            lastDigits = digits;
        }
        if (ranges.Count == 1 && ranges[0].From == ranges[0].To) return prefix + ranges[0].From;
        var text = new StringBuilder(prefix).Append('[');
        for (var i = 0; i < ranges.Count; i++)
        {
            if (i > 0) text.Append(',');
            text.Append(ranges[i].From);
            if (ranges[i].To != ranges[i].From) text.Append('-').Append(ranges[i].To);
        }
        return text.Append(']').ToString();
    }

    // The comma-separated elements of a host list; commas inside brackets separate ranges, not elements.
    private static IEnumerable<string> TopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '[') depth++;
            else if (text[i] == ']') depth--;
            else if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }
        yield return text[start..];
    }

    private static bool IsNumber(string s) => s.Length is > 0 and <= NodeNamePattern.MaxWidth && s.All(char.IsAsciiDigit);

    private static FormatException Bad(string text, string problem) => new($"not a host list: {problem} in '{text}'");
}
