using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using TagGateway.CommandLine.Doctor;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.CommandLine;

/// <summary>How the loopback deployment the doctor examines is (mis)configured.</summary>
internal sealed record SiteShape
{
    public bool Tls { get; init; } = true;

    public bool Geolocation { get; init; } = true;

    public bool UpstreamDown { get; init; }

    public string? CookieDomain { get; init; }
}

/// <summary>
/// A site as the doctor finds it on the internet, on loopback: nginx as the edge (TLS with a self-signed certificate for
/// www.example.test, HTTP/2, the visitor's IP, scheme, host and a location passed on as a ReverseProxy edge does), the real
/// gateway behind it, a fake Google behind that, and a DNS server that names the hosts.
/// </summary>
internal sealed class DoctorSite : IAsyncDisposable
{
    public const string PageHost = "www.example.test";
    public const string EdgeSecret = "edge-secret-for-tests";
    public const string DiagnosticToken = "diagnostic-token-for-tests";
    public const string TagId = "G-TEST1234";

    private readonly string _directory;
    private Process? _nginx;

    private DoctorSite(string directory, FakeUpstream upstream, GatewayInstance gateway, FakeDns dns, int port, bool tls)
    {
        _directory = directory;
        Upstream = upstream;
        Gateway = gateway;
        Dns = dns;
        Port = port;
        Url = $"{(tls ? "https" : "http")}://{PageHost}:{port}/";
    }

    public FakeUpstream Upstream { get; }

    public GatewayInstance Gateway { get; }

    public FakeDns Dns { get; }

    public int Port { get; }

    public string Url { get; }

    public string CaFile => Path.Combine(_directory, "cert.pem");

    /// <summary>The doctor's arguments for this site, the given ones appended.</summary>
    public string[] Arguments(params string[] more) =>
        [Url, "--tag-id", TagId, "--send-test-hit", "--token", DiagnosticToken, "--dns", Dns.EndPoint.ToString(), "--ca-file", CaFile, "--timeout", "10", .. more];

    public static void RequireNginx()
    {
        var installed = File.Exists("/usr/sbin/nginx");
        if (!installed && Environment.GetEnvironmentVariable("TAGGATEWAY_REQUIRE_NGINX") == "1")
        {
            Assert.Fail("nginx is missing (apt-get install nginx-light).");
        }

        Skip.IfNot(installed, "nginx is not installed (apt-get install nginx-light).");
    }

    public static async Task<DoctorSite> StartAsync(SiteShape shape)
    {
        var directory = Directory.CreateTempSubdirectory("doctor-site-").FullName;
        WriteCertificate(directory);

        var upstream = await FakeUpstream.StartAsync(static (context, request) =>
        {
            if (request.PathAndQuery.Contains("/gtag/js", StringComparison.Ordinal))
            {
                context.Response.ContentType = "application/javascript; charset=utf-8";
                context.Response.Headers.CacheControl = "public, max-age=900";
                return context.Response.WriteAsync(Bodies.Script("doctor"));
            }

            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        });
        var settings = GatewayInstance.Settings(shape.UpstreamDown ? FakeUpstream.ClosedOrigin() : upstream.Origin, TagId);
        settings["Gateway:ClientIdentity:Edge"] = "ReverseProxy";
        settings["Gateway:ClientIdentity:EdgeSecret"] = EdgeSecret;
        settings["Gateway:Management:DiagnosticToken"] = DiagnosticToken;
        if (shape.CookieDomain is not null)
        {
            settings["Cookies:Domain"] = shape.CookieDomain;
        }

        var gateway = await GatewayInstance.StartAsync(settings);
        var dns = new FakeDns().Add(PageHost, DnsRecordType.A, "127.0.0.1");
        var port = TagGateway.TestKit.Loopback.LoopbackPorts.Free();
        var site = new DoctorSite(directory, upstream, gateway, dns, port, shape.Tls);
        await site.StartNginxAsync(shape, gateway.PublicEndPoint.Port);
        return site;
    }

    /// <summary>Runs the doctor in this process (its entry point, as the binary calls it) and returns exit code and text.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> DoctorAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await DoctorCommand.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>The report line of one check (each starts with its marker, then the check's name).</summary>
    public static string Line(string output, string id) =>
        Assert.Single(output.Split('\n'), l => l.Length > 8 && l[8..].StartsWith(id.PadRight(12), StringComparison.Ordinal)).TrimEnd('\r');

    public async ValueTask DisposeAsync()
    {
        if (_nginx is { HasExited: false })
        {
            _nginx.Kill(entireProcessTree: true);
            await _nginx.WaitForExitAsync();
        }

        _nginx?.Dispose();
        Dns.Dispose();
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private static void WriteCertificate(string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={PageHost}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(PageHost);
        names.AddDnsName("m.example.test");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, 0, critical: true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        File.WriteAllText(Path.Combine(directory, "cert.pem"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "key.pem"), key.ExportPkcs8PrivateKeyPem());
    }

    private async Task StartNginxAsync(SiteShape shape, int gatewayPort)
    {
        var listen = shape.Tls ? " ssl http2" : string.Empty;
        var geo = shape.Geolocation ? "proxy_set_header X-Forwarded-CountryRegion \"DE-BE\";" : string.Empty;
        // As root, nginx's default worker user is nobody:nobody, and Debian has no group nobody.
        var user = Environment.UserName == "root" ? "user root root;" : string.Empty;
        var config = $$"""
            {{user}}
            worker_processes 1;
            daemon off;
            pid {{_directory}}/nginx.pid;
            error_log {{_directory}}/error.log warn;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path {{_directory}}/body;
                proxy_temp_path {{_directory}}/proxy;
                fastcgi_temp_path {{_directory}}/fastcgi;
                uwsgi_temp_path {{_directory}}/uwsgi;
                scgi_temp_path {{_directory}}/scgi;
                server {
                    listen 127.0.0.1:{{Port}}{{listen}};
                    listen 127.1.0.1:{{Port}}{{listen}};
                    server_name {{PageHost}} m.example.test;
                    ssl_protocols TLSv1.2 TLSv1.3;
                    ssl_certificate {{_directory}}/cert.pem;
                    ssl_certificate_key {{_directory}}/key.pem;
                    location /metrics/ {
                        proxy_pass http://127.0.0.1:{{gatewayPort}};
                        proxy_http_version 1.1;
                        proxy_buffering off;
                        proxy_set_header Host $host;
                        proxy_set_header X-Forwarded-Host $host;
                        proxy_set_header X-Forwarded-For $remote_addr;
                        proxy_set_header X-Forwarded-Proto $scheme;
                        proxy_set_header X-TagGateway-Secret "{{EdgeSecret}}";
                        {{geo}}
                    }
                }
            }
            """;
        var file = Path.Combine(_directory, "nginx.conf");
        await File.WriteAllTextAsync(file, config);
        var start = new ProcessStartInfo("/usr/sbin/nginx", ["-p", _directory, "-c", file, "-e", Path.Combine(_directory, "error.log")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _nginx = Process.Start(start)!;
        var end = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < end && !_nginx.HasExited)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        var log = File.Exists(Path.Combine(_directory, "error.log")) ? await File.ReadAllTextAsync(Path.Combine(_directory, "error.log")) : string.Empty;
        Assert.Fail($"nginx did not start: {await _nginx.StandardError.ReadToEndAsync()} {log}");
    }
}
