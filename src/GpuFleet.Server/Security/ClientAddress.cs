using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Security;

/// <summary>The address a request is counted by for the per-address limits.</summary>
public static class ClientAddress
{
    /// <summary>
    /// The connection's peer (rewritten from <c>X-Forwarded-For</c> only for a trusted proxy); an IPv6
    /// client by its /64, since one host is usually given a whole /64 to draw addresses from; requests
    /// without a peer address (in-process hosts) all count as one.
    /// </summary>
    public static IPAddress Of(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null) return IPAddress.None;
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address;
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes);
    }
}
