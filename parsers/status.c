/*
 * status.c - the HTTP status-code catalogue behind the code/class/reason labels.
 *
 * What: one static const table, sorted by code, of every status code an
 * operator is likely to meet in nginx/Apache access logs: the IANA HTTP
 * Status Code Registry (RFC 9110 reason phrases, WebDAV, RFC 6585, ...)
 * plus vendor codes (nginx 444/494-499, Cloudflare 52x/530, AWS ELB,
 * Microsoft IIS, Apache, Laravel, Shopify, Esri) and the 598/599 proxy
 * convention.  Where two vendors use one number, the row keeps the owner
 * most likely behind an nginx/Apache log line and its description names
 * the other; IANA always wins over a vendor (451, 418).
 *
 * How: the hot path is status_slot_from_text(), a branch-light check of
 * exactly three ASCII digits with no locale, no strtol and no table access.
 * Label lookups (once per new series or per scrape) binary-search the
 * table; ~90 rows cost at most 7 comparisons.  Code labels "100".."599"
 * come from a static const char array expanded by macros, so every slot
 * has a static string and nothing is ever written at run time.
 *
 * Rejected: a 500-entry index array (needs generated code or X-macros
 * that clang-format mangles, for no measurable gain off the hot path);
 * snprintf into a mutable buffer for code labels (a mutable global).
 */
#include "parsers/status.h"

#define IANA "iana"

static const struct status_info catalog[] = {
    /* 1xx */
    {100, "Continue", IANA, "RFC 9110",
     "Interim reply telling the client to go ahead and upload the body it announced with "
     "Expect: 100-continue."},
    {101, "Switching Protocols", IANA, "RFC 9110",
     "The server accepted an Upgrade header, usually a WebSocket handshake; the connection "
     "then leaves plain HTTP."},
    {102, "Processing", IANA, "RFC 2518 (WebDAV)",
     "Keep-alive signal from a WebDAV server still busy with a long request; rarely seen in "
     "logs and deprecated since RFC 4918."},
    {103, "Early Hints", IANA, "RFC 8297",
     "Preliminary reply carrying Link headers so the browser can preload assets while the "
     "final response is still being built."},

    /* 2xx */
    {200, "OK", IANA, "RFC 9110", "Normal success; the response carries the requested content."},
    {201, "Created", IANA, "RFC 9110",
     "A POST or PUT produced a new resource, typically named in the Location header."},
    {202, "Accepted", IANA, "RFC 9110",
     "The work was queued for later processing; success here does not mean it finished."},
    {203, "Non-Authoritative Information", IANA, "RFC 9110",
     "A transforming proxy changed the payload it got from the origin before passing it on."},
    {204, "No Content", IANA, "RFC 9110",
     "Success with an intentionally empty body, common for API deletes, updates and beacons."},
    {205, "Reset Content", IANA, "RFC 9110",
     "Success and the client should clear the form or view it submitted from; rare in "
     "practice."},
    {206, "Partial Content", IANA, "RFC 9110",
     "Only the byte range asked for in a Range header was sent: video seeking, resumed "
     "downloads, PDF viewers."},
    {207, "Multi-Status", IANA, "RFC 4918 (WebDAV)",
     "WebDAV reply whose XML body lists a separate outcome for each resource touched."},
    {208, "Already Reported", IANA, "RFC 5842 (WebDAV)",
     "Inside a WebDAV multi-status body, marks a binding that was listed earlier in the same "
     "reply."},
    {218, "This is fine", "apache", "Apache httpd (unofficial)",
     "Unofficial Apache catch-all that lets a backend error body through when "
     "ProxyErrorOverride is on."},
    {226, "IM Used", IANA, "RFC 3229",
     "Delta encoding reply: the body is a diff against a version the client already holds; "
     "almost never deployed."},

    /* 3xx */
    {300, "Multiple Choices", IANA, "RFC 9110",
     "Several representations exist and the server left the pick to the client; uncommon in "
     "real traffic."},
    {301, "Moved Permanently", IANA, "RFC 9110",
     "Permanent redirect, e.g. http to https or an old URL; browsers and search engines cache "
     "it."},
    {302, "Found", IANA, "RFC 9110",
     "Temporary redirect, very often a login page or post-form bounce; clients may switch POST "
     "to GET."},
    {303, "See Other", IANA, "RFC 9110",
     "Redirect that always continues with a GET, the usual answer after a successful form "
     "submission."},
    {304, "Not Modified", IANA, "RFC 9110",
     "Cache revalidation hit: the client's copy is still current, so no body was transferred."},
    {305, "Use Proxy", IANA, "RFC 9110",
     "Deprecated for security reasons and ignored by browsers; seeing it points at a very old "
     "or odd backend."},
    {306, "(Unused)", IANA, "RFC 9110",
     "Reserved number that an early HTTP/1.1 draft called Switch Proxy; no current software "
     "should send it."},
    {307, "Temporary Redirect", IANA, "RFC 9110",
     "Temporary redirect in which the client must repeat the same method and body at the new "
     "URL."},
    {308, "Permanent Redirect", IANA, "RFC 9110",
     "Permanent redirect that keeps the method and body, the method-safe counterpart of 301."},

    /* 4xx */
    {400, "Bad Request", IANA, "RFC 9110",
     "The request was malformed: broken syntax, bad framing or junk such as TLS bytes on a "
     "plain port."},
    {401, "Unauthorized", IANA, "RFC 9110",
     "Credentials are missing or were rejected; expect these from logins, expired tokens and "
     "scanners."},
    {402, "Payment Required", IANA, "RFC 9110",
     "Reserved by the standard; some SaaS APIs use it for billing or quota problems."},
    {403, "Forbidden", IANA, "RFC 9110",
     "Access denied whoever the user is: file permissions, deny rules, a WAF or a missing "
     "index file."},
    {404, "Not Found", IANA, "RFC 9110",
     "Nothing exists at that path; spikes usually mean broken links, a bad deploy or "
     "vulnerability scanners."},
    {405, "Method Not Allowed", IANA, "RFC 9110",
     "The path exists but does not accept this verb, e.g. a POST aimed at a static file."},
    {406, "Not Acceptable", IANA, "RFC 9110",
     "Content negotiation failed: nothing matches the Accept headers the client sent."},
    {407, "Proxy Authentication Required", IANA, "RFC 9110",
     "A forward proxy on the path wants credentials from the client before relaying the "
     "request."},
    {408, "Request Timeout", IANA, "RFC 9110",
     "The client opened a connection but was too slow to send a complete request, often idle "
     "keep-alives."},
    {409, "Conflict", IANA, "RFC 9110",
     "The change clashes with the resource's current state, such as an edit conflict or a "
     "duplicate key."},
    {410, "Gone", IANA, "RFC 9110",
     "The resource was deliberately removed for good, a stronger hint to crawlers than 404."},
    {411, "Length Required", IANA, "RFC 9110",
     "A request with a body arrived without Content-Length and the server will not take it "
     "chunked."},
    {412, "Precondition Failed", IANA, "RFC 9110",
     "An If-Match or If-Unmodified-Since condition did not hold, so the write was skipped."},
    {413, "Content Too Large", IANA, "RFC 9110",
     "The upload exceeds the server's body limit, e.g. nginx client_max_body_size "
     "(formerly Request Entity Too Large)."},
    {414, "URI Too Long", IANA, "RFC 9110",
     "The target URL is longer than the server will parse, often a runaway query string or "
     "redirect loop."},
    {415, "Unsupported Media Type", IANA, "RFC 9110",
     "The body's Content-Type or encoding is not one this endpoint can read."},
    {416, "Range Not Satisfiable", IANA, "RFC 9110",
     "The byte range asked for lies outside the file, common after a file shrank mid-download."},
    {417, "Expectation Failed", IANA, "RFC 9110",
     "The server cannot honour the request's Expect header, usually a 100-continue it does "
     "not support."},
    {418, "I'm a teapot", IANA, "RFC 9110 (reserved); RFC 2324, RFC 7168",
     "Joke code from the RFC 2324/7168 April Fools coffee-pot protocols, now reserved by IANA; "
     "some sites return it to bots."},
    {419, "Page Expired", "laravel", "Laravel",
     "Laravel rejected a form because its CSRF token was missing or its session had expired."},
    {420, "Enhance Your Calm", "twitter", "Twitter API v1",
     "Rate limiting in the old Twitter API; Spring Framework once used 420 for Method Failure, "
     "and 429 is the standard code."},
    {421, "Misdirected Request", IANA, "RFC 9110",
     "The connection reached a server that cannot answer for this host, e.g. a reused HTTP/2 "
     "TLS connection."},
    {422, "Unprocessable Content", IANA, "RFC 9110 (from RFC 4918, WebDAV)",
     "The body parsed fine but failed validation; APIs use it for semantic input errors "
     "(formerly Unprocessable Entity)."},
    {423, "Locked", IANA, "RFC 4918 (WebDAV)",
     "The WebDAV resource is held by a lock that this request did not present a token for."},
    {424, "Failed Dependency", IANA, "RFC 4918 (WebDAV)",
     "A WebDAV operation was abandoned because an earlier step in the same request failed."},
    {425, "Too Early", IANA, "RFC 8470",
     "The server will not act on a request sent in TLS 1.3 early data that could be replayed "
     "(once reserved for WebDAV)."},
    {426, "Upgrade Required", IANA, "RFC 9110",
     "The endpoint refuses this protocol and names the one to switch to in an Upgrade header."},
    {428, "Precondition Required", IANA, "RFC 6585",
     "The server insists on a conditional request (If-Match) so that concurrent writes cannot "
     "overwrite each other."},
    {429, "Too Many Requests", IANA, "RFC 6585",
     "A rate limit fired, e.g. nginx limit_req with limit_req_status 429 or an API quota."},
    {430, "Security Rejection", "shopify", "Shopify",
     "Shopify blocked a request its edge judged abusive; older Shopify APIs used 430 for API "
     "call rate limits."},
    {431, "Request Header Fields Too Large", IANA, "RFC 6585",
     "The headers, often an overgrown Cookie, exceed the server's limit for the header block."},
    {440, "Login Time-out", "microsoft", "Microsoft IIS",
     "IIS and Outlook Web Access report that the user's session timed out and a new login is "
     "needed."},
    {444, "No Response", "nginx", "nginx",
     "nginx dropped the connection without sending anything, as configured with return 444; "
     "typical for blocked bots."},
    {449, "Retry With", "microsoft", "Microsoft IIS",
     "IIS asks the client to supply missing information and send the request once more."},
    {450, "Blocked by Windows Parental Controls", "microsoft", "Microsoft",
     "Windows Parental Controls stopped the user from loading this page."},
    {451, "Unavailable For Legal Reasons", IANA, "RFC 7725",
     "Content withheld because of a legal demand such as a court order; IIS's nonstandard 451 "
     "Redirect is a different thing."},
    {460, "Client Closed Connection", "aws", "AWS Elastic Load Balancing",
     "The client hung up on an AWS load balancer before the idle timeout, often because its "
     "own timeout is shorter."},
    {463, "Too Many Forwarded IPs", "aws", "AWS Elastic Load Balancing",
     "An AWS load balancer refused a request whose X-Forwarded-For header listed too many "
     "addresses."},
    {464, "Incompatible Protocol Versions", "aws", "AWS Elastic Load Balancing",
     "The client's protocol does not fit the AWS target group, e.g. HTTP/1.1 sent to a gRPC "
     "target group."},
    {494, "Request Header Too Large", "nginx", "nginx",
     "nginx refused a request whose header or request line did not fit "
     "large_client_header_buffers."},
    {495, "SSL Certificate Error", "nginx", "nginx",
     "nginx could not verify the client certificate presented during mutual TLS."},
    {496, "SSL Certificate Required", "nginx", "nginx",
     "nginx wanted a client certificate for mutual TLS but the client presented none."},
    {497, "HTTP Request Sent to HTTPS Port", "nginx", "nginx",
     "nginx saw plain HTTP on a port configured for TLS; usually a wrong scheme in a link or "
     "health check."},
    {498, "Invalid Token", "esri", "Esri ArcGIS Server",
     "ArcGIS Server turned down a request whose access token was expired or not valid."},
    {499, "Client Closed Request", "nginx", "nginx",
     "The client closed the connection before nginx sent a response; often a slow upstream or "
     "an impatient client (ArcGIS reuses 499 for Token Required)."},

    /* 5xx */
    {500, "Internal Server Error", IANA, "RFC 9110",
     "The application failed while handling the request; check the backend's error log and "
     "stack traces."},
    {501, "Not Implemented", IANA, "RFC 9110",
     "The server has no support at all for the method the client used."},
    {502, "Bad Gateway", IANA, "RFC 9110",
     "The proxy got no usable answer from the upstream: backend down, crashed, or sending "
     "garbage."},
    {503, "Service Unavailable", IANA, "RFC 9110",
     "Overload, maintenance or no healthy upstream left; may carry Retry-After and often "
     "passes on its own."},
    {504, "Gateway Timeout", IANA, "RFC 9110",
     "The proxy gave up waiting for the upstream, e.g. nginx proxy_read_timeout expired."},
    {505, "HTTP Version Not Supported", IANA, "RFC 9110",
     "The server will not speak the HTTP version named in the request line."},
    {506, "Variant Also Negotiates", IANA, "RFC 2295",
     "Transparent content negotiation is misconfigured so that a variant points back into "
     "negotiation."},
    {507, "Insufficient Storage", IANA, "RFC 4918 (WebDAV)",
     "The WebDAV server ran out of disk or quota while storing what the client sent."},
    {508, "Loop Detected", IANA, "RFC 5842 (WebDAV)",
     "A WebDAV operation with Depth: infinity ran into a cycle of bindings and stopped."},
    {509, "Bandwidth Limit Exceeded", "apache", "Apache httpd / cPanel (unofficial)",
     "The hosting account used up its traffic allowance, as reported by cPanel or Apache "
     "bandwidth modules."},
    {510, "Not Extended", IANA, "RFC 2774 (obsoleted)",
     "The HTTP Extension Framework policy was not met; the framework is now historic, so this "
     "is very rare."},
    {511, "Network Authentication Required", IANA, "RFC 6585",
     "A captive portal on the network path intercepted the request and wants the user to sign "
     "in first."},
    {520, "Web Server Returned an Unknown Error", "cloudflare", "Cloudflare",
     "Cloudflare got an empty, malformed or unexpected reply from the origin server."},
    {521, "Web Server Is Down", "cloudflare", "Cloudflare",
     "Cloudflare's TCP connection to the origin was refused; the web server is down or "
     "firewalled."},
    {522, "Connection Timed Out", "cloudflare", "Cloudflare",
     "Cloudflare's TCP handshake with the origin never completed within its time limit."},
    {523, "Origin Is Unreachable", "cloudflare", "Cloudflare",
     "Cloudflare found no network route to the origin, often a wrong DNS record or IP "
     "address."},
    {524, "A Timeout Occurred", "cloudflare", "Cloudflare",
     "The origin accepted the connection but did not answer before Cloudflare's response "
     "timeout."},
    {525, "SSL Handshake Failed", "cloudflare", "Cloudflare",
     "Cloudflare could not complete a TLS handshake with the origin server."},
    {526, "Invalid SSL Certificate", "cloudflare", "Cloudflare",
     "In strict TLS mode Cloudflare rejected the certificate the origin presented."},
    {527, "Railgun Error", "cloudflare", "Cloudflare",
     "The link between Cloudflare and the origin's Railgun listener broke; Railgun itself is "
     "retired."},
    {530, "Origin Error", "cloudflare", "Cloudflare",
     "Cloudflare pairs this with a 1xxx error page such as origin DNS failure; Pantheon also "
     "uses 530 for a frozen site."},
    {561, "Unauthorized", "aws", "AWS Elastic Load Balancing",
     "An AWS load balancer doing user authentication got an error back from the identity "
     "provider."},
    {598, "Network Read Timeout Error", "unofficial", "unofficial (some proxies)",
     "Informal proxy convention: the upstream accepted the connection but its reply did not "
     "arrive in time."},
    {599, "Network Connect Timeout Error", "unofficial", "unofficial (some proxies)",
     "Informal proxy convention: opening a connection to the upstream timed out."},
};

#define CATALOG_SIZE (sizeof(catalog) / sizeof(catalog[0]))

/* Code labels "100".."599", expanded at compile time: D10(h, t) gives the
 * ten labels h t 0..9 by string-literal concatenation. */
#define D10(h, t)                                                                                  \
	h t "0", h t "1", h t "2", h t "3", h t "4", h t "5", h t "6", h t "7", h t "8", h t "9"
#define D100(h)                                                                                    \
	D10(h, "0"), D10(h, "1"), D10(h, "2"), D10(h, "3"), D10(h, "4"), D10(h, "5"), D10(h, "6"), \
	    D10(h, "7"), D10(h, "8"), D10(h, "9")

static const char code_labels[STATUS_SLOT_INVALID][4] = {
    D100("1"), D100("2"), D100("3"), D100("4"), D100("5"),
};

static const char *const class_labels[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

static const char unassigned_description[] =
    "A code in the valid range that no standard or well-known vendor defines; the backend "
    "chose it itself.";
static const char invalid_description[] =
    "The status field was missing, not three digits, or outside 100-599, so the line is "
    "counted here.";

size_t status_catalog_size(void)
{
	return CATALOG_SIZE;
}

const struct status_info *status_catalog_row(size_t i)
{
	if (i >= CATALOG_SIZE) {
		return NULL;
	}
	return &catalog[i];
}

const struct status_info *status_lookup(unsigned code)
{
	size_t lo = 0;
	size_t hi = CATALOG_SIZE;

	/* Half-open binary search; the table is sorted (checked by the tests). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (catalog[mid].code == code) {
			return &catalog[mid];
		}
		if (catalog[mid].code < code) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return NULL;
}

unsigned status_slot_from_text(const char *s, size_t len)
{
	unsigned d0;
	unsigned d1;
	unsigned d2;

	if (s == NULL || len != 3) {
		return STATUS_SLOT_INVALID;
	}
	/* Unsigned wrap-around turns "below '0'" into a large value, so one
	 * compare per digit checks both bounds; no locale, no strtol. */
	d0 = (unsigned)(unsigned char)s[0] - '1';
	d1 = (unsigned)(unsigned char)s[1] - '0';
	d2 = (unsigned)(unsigned char)s[2] - '0';
	if (d0 > 4 || d1 > 9 || d2 > 9) {
		return STATUS_SLOT_INVALID;
	}
	return d0 * 100 + d1 * 10 + d2;
}

unsigned status_slot_from_code(unsigned code)
{
	if (code < STATUS_CODE_MIN || code > STATUS_CODE_MAX) {
		return STATUS_SLOT_INVALID;
	}
	return code - STATUS_CODE_MIN;
}

/* Catalogue row of a slot, NULL for unassigned and invalid slots. */
static const struct status_info *slot_row(unsigned slot)
{
	if (slot >= STATUS_SLOT_INVALID) {
		return NULL;
	}
	return status_lookup(slot + STATUS_CODE_MIN);
}

const char *status_slot_code(unsigned slot)
{
	if (slot >= STATUS_SLOT_INVALID) {
		return "invalid";
	}
	return code_labels[slot];
}

const char *status_slot_class(unsigned slot)
{
	if (slot >= STATUS_SLOT_INVALID) {
		return "invalid";
	}
	return class_labels[slot / 100];
}

const char *status_slot_reason(unsigned slot)
{
	const struct status_info *row;

	if (slot >= STATUS_SLOT_INVALID) {
		return "Invalid";
	}
	row = slot_row(slot);
	return row != NULL ? row->reason : "Unassigned";
}

const char *status_slot_origin(unsigned slot)
{
	const struct status_info *row;

	if (slot >= STATUS_SLOT_INVALID) {
		return "invalid";
	}
	row = slot_row(slot);
	return row != NULL ? row->origin : "unassigned";
}

const char *status_slot_description(unsigned slot)
{
	const struct status_info *row;

	if (slot >= STATUS_SLOT_INVALID) {
		return invalid_description;
	}
	row = slot_row(slot);
	return row != NULL ? row->description : unassigned_description;
}
