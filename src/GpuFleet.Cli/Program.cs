using System.CommandLine;
using GpuFleet.Cli.Commands;

var root = new RootCommand("GpuFleet: control plane and digital twin for a shared national GPU fleet.");
root.Subcommands.Add(SimulateCommand.Create());
root.Subcommands.Add(FleetCommand.Create());
root.Subcommands.Add(WorkloadCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
foreach (var client in ClientCommands.Create()) root.Subcommands.Add(client);
return root.Parse(args).Invoke();
