using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace GpuFleet.Server.Tests;

/// <summary>Keeps every error-level log entry of a server, so that a test can say none was written.</summary>
internal sealed class CapturedErrors : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _entries = new();
    private readonly ConcurrentQueue<string> _warnings = new();

    /// <summary>Each error entry: its category, message and exception.</summary>
    public IReadOnlyCollection<string> Entries => _entries;

    /// <summary>Each warning: its category and message.</summary>
    public IReadOnlyCollection<string> Warnings => _warnings;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries, _warnings);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> entries, ConcurrentQueue<string> warnings) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error) entries.Enqueue($"{category}: {formatter(state, exception)} {exception}");
            else if (logLevel == LogLevel.Warning) warnings.Enqueue($"{category}: {formatter(state, exception)}");
        }
    }
}
