namespace TagGateway.Tests.Hostile;

/// <summary>
/// Paths under the measurement path that some parser on the way (a servlet container, a Windows file system, a
/// decoder that decodes twice or accepts overlong UTF-8, a Unicode normaliser) would read as a traversal or a
/// different path. Each reached the upstream before issue #17 item 7; each is now a 400 with nothing sent.
/// </summary>
public static class TraversalForms
{
    /// <summary>Path suffixes after <c>/metrics</c>, as raw request-target text (non-ASCII is sent as UTF-8).</summary>
    public static readonly string[] NewlyRefused =
    [
        // Servlet path parameters: "..;" is ".." to Tomcat and Jetty.
        "/..;/admin",
        "/g/..;/..;/admin",
        "/.;/g/collect",
        "/..;jsessionid=x/admin",
        "/;/admin",
        // Double (and triple) encoding: "%25" decodes to "%", so a second decode makes the dot or slash.
        "/%252e%252e/admin",
        "/%252E%252E/admin",
        "/%252e%252e%252fadmin",
        "/g%252fcollect",
        "/g%255ccollect",
        "/%25252e%25252e/admin",
        "/.%252e/admin",
        // Overlong UTF-8 for ".", "/", "\" and NUL, which lax decoders accept.
        "/%c0%ae%c0%ae/admin",
        "/%C0%AE%C0%ae/admin",
        "/%e0%80%ae%e0%80%ae/admin",
        "/%f0%80%80%ae%f0%80%80%ae/admin",
        "/g%c0%afcollect",
        "/..%c0%af../admin",
        "/g%c1%9ccollect",
        "/..%c0%80/admin",
        // Trailing whitespace and control characters that a trimming parser drops: ".. " is "..".
        "/..%20/admin",
        "/..%09/admin",
        "/..%0a/admin",
        "/..%0D%0A/admin",
        "/..%7f/admin",
        // Fullwidth and other Unicode dots and slashes that NFKC or IDNA mapping turns into ASCII ones.
        "/%ef%bc%8e%ef%bc%8e/admin",
        "/%EF%BC%8E%EF%BC%8E/admin",
        "/\uFF0E\uFF0E/admin",
        "/g%ef%bc%8fcollect",
        "/g%ef%bc%bccollect",
        "/%e3%80%82%e3%80%82/admin",
        "/%e2%80%a4%e2%80%a4/admin",
        "/%ff%fe/admin",
        // Trailing dots (Windows strips them: "admin." is "admin", "..." is "..") and trailing semicolons.
        "/.../admin",
        "/..../admin",
        "/g./collect",
        "/g/collect.",
        "/gtag/js.",
        "/g/collect;",
        "/g;/collect",
        // Encoded delimiters that only exist to make two parsers disagree.
        "/..%3b/admin",
        "/..%3B/admin",
        "/g/collect%3Ftid=G-EVIL1234",
        "/g/collect%23frag",
    ];

    /// <summary>Forms that were already refused; kept so the two lists together describe the whole rule.</summary>
    public static readonly string[] AlreadyRefused =
    [
        "/../admin",
        "/%2e%2e/admin",
        "/%2E%2e%2Fadmin",
        "/%2e%2e%20",
        "/%u002e%u002e/admin",
        "/g%5ccollect",
        "/g%00",
        "//evil.example/x",
        "/./g/collect",
        "/g/collect%zz",
        "/g/collect%2",
    ];

    /// <summary>Paths Google's tag really uses: none of the rules may refuse them.</summary>
    public static readonly string[] Legitimate =
    [
        "",
        "/",
        "/g/collect",
        "/ag/g/c",
        "/ga/g/c",
        "/gs/ccm/collect",
        "/ccm/collect",
        "/g/d/ccm/conversion/862529334/",
        "/_/service_worker/5c30/sw.js",
        "/gtm.js",
        "/gtag/js",
        "/gtag/destination",
        "/ns.html",
        "/pagead/1p-user-list/862529334/",
        "/td/rul/862529334",
        "/a~b/c-d_e.f",
        "/pagead/viewthroughconversion/862529334/",
        "/%41bc",
    ];

    public static TheoryData<string> Data(string[] forms)
    {
        var data = new TheoryData<string>();
        foreach (var form in forms)
        {
            data.Add(form);
        }

        return data;
    }
}
