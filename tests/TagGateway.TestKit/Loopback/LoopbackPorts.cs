using System.Net;
using System.Net.Sockets;

namespace TagGateway.TestKit.Loopback;

/// <summary>
/// Free ports on 127.0.0.1 for a gateway that must be told its ports before it starts (a process, or a host whose
/// settings name them). A port is only free until someone binds it, so callers that can retry on AddressInUse do.
/// </summary>
public static class LoopbackPorts
{
    public static int Free() => Distinct(1)[0];

    /// <summary><paramref name="count"/> different free ports: every one is held until the last is picked, so none coincide.</summary>
    public static int[] Distinct(int count)
    {
        var listeners = new TcpListener[count];
        try
        {
            for (var i = 0; i < count; i++)
            {
                listeners[i] = new TcpListener(IPAddress.Loopback, 0);
                listeners[i].Start();
            }

            return [.. listeners.Select(static l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener?.Dispose();
            }
        }
    }
}
