// edge-config/gcp: every .tf file parsed by HashiCorp's HCL parser (hcl2json,
// compiled to WebAssembly), its references checked, and the gateway fed
// exactly the request headers this configuration makes the load balancer add.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { createRequire } from "node:module";
import { EDGE_DIR, request } from "./lib/util.mjs";
import { startFakeUpstream, FAKE_COOKIES } from "./lib/fake-upstream.mjs";
import { startGateway, TAG_IDS } from "./lib/gateway.mjs";

const require = createRequire(import.meta.url);
const { parse: parseHcl } = require("@cdktf/hcl2json");

const GCP_DIR = path.join(EDGE_DIR, "gcp");
const tfFiles = fs.readdirSync(GCP_DIR).filter((f) => f.endsWith(".tf")).sort();
const LB_IP = "34.117.0.10";

const parsed = {}; // file -> JSON
let config; // merged view
const SECRET = crypto.randomBytes(24).toString("base64url");

function merge(files) {
  const out = { variable: {}, locals: {}, resource: {}, output: {}, data: {}, provider: {}, terraform: [] };
  for (const j of Object.values(files)) {
    for (const [name, v] of Object.entries(j.variable || {})) out.variable[name] = v[0];
    for (const l of j.locals || []) Object.assign(out.locals, l);
    for (const [type, byName] of Object.entries(j.resource || {})) {
      out.resource[type] ??= {};
      for (const [name, v] of Object.entries(byName)) {
        assert.ok(!out.resource[type][name], `duplicate resource ${type}.${name}`);
        out.resource[type][name] = v[0];
      }
    }
    for (const [type, byName] of Object.entries(j.data || {})) {
      out.data[type] ??= {};
      Object.assign(out.data[type], Object.fromEntries(Object.entries(byName).map(([n, v]) => [n, v[0]])));
    }
    for (const [name, v] of Object.entries(j.output || {})) out.output[name] = v[0];
    Object.assign(out.provider, j.provider || {});
    out.terraform.push(...(j.terraform || []));
  }
  return out;
}

/** Every string anywhere in a parsed value. */
function strings(value, acc = [], skipKeys = []) {
  if (typeof value === "string") acc.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, acc, skipKeys));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) if (!skipKeys.includes(k)) strings(v, acc, skipKeys);
  }
  return acc;
}

/** Interpolations only: the text inside ${ ... } (nested braces allowed). */
function interpolations(s) {
  const out = [];
  for (let i = s.indexOf("${"); i >= 0; i = s.indexOf("${", i + 2)) {
    let depth = 0;
    for (let j = i + 1; j < s.length; j++) {
      if (s[j] === "{") depth++;
      else if (s[j] === "}" && --depth === 0) {
        out.push(s.slice(i + 2, j));
        break;
      }
    }
  }
  return out;
}

function variableDefault(name) {
  const v = config.variable[name];
  assert.ok(v, `variable ${name} declared`);
  return v.default;
}

before(async () => {
  for (const f of tfFiles) parsed[f] = await parseHcl(f, fs.readFileSync(path.join(GCP_DIR, f), "utf8"));
  config = merge(parsed);
});

describe("Terraform (HCL parsed by hashicorp/hcl via @cdktf/hcl2json)", () => {
  it("has .tf files and every one parses", () => {
    assert.ok(tfFiles.length >= 5, `found ${tfFiles.join(", ")}`);
    for (const f of tfFiles) assert.equal(typeof parsed[f], "object", f);
  });

  it("rejects broken HCL (the parser is real)", async () => {
    await assert.rejects(parseHcl("broken.tf", 'resource "google_compute_url_map" "x" {\n  name = \n}\n'));
    await assert.rejects(parseHcl("broken.tf", 'variable "x" {\n  default = "unterminated\n}\n'));
  });

  it("terraform.tfvars.example parses and sets only declared variables", async () => {
    const tfvars = await parseHcl("terraform.tfvars.example", fs.readFileSync(path.join(GCP_DIR, "terraform.tfvars.example"), "utf8"));
    for (const key of Object.keys(tfvars)) assert.ok(config.variable[key], `tfvars sets undeclared variable ${key}`);
    for (const [name, v] of Object.entries(config.variable)) {
      if (!("default" in v)) assert.ok(name in tfvars, `required variable ${name} missing from the example`);
    }
  });

  it("pins the providers it uses", () => {
    const req = Object.assign({}, ...config.terraform.flatMap((t) => t.required_providers || []));
    assert.equal(req.google?.source, "hashicorp/google");
    assert.equal(req.random?.source, "hashicorp/random");
    for (const type of Object.keys(config.resource)) {
      const provider = type.split("_")[0];
      assert.ok(req[provider], `provider for ${type} is in required_providers`);
    }
  });

  it("every var., local. and resource reference resolves", () => {
    const problems = [];
    for (const [file, json] of Object.entries(parsed)) {
      for (const s of strings(json)) {
        for (const expr of interpolations(s)) {
          for (const [, name] of expr.matchAll(/\bvar\.([A-Za-z_][A-Za-z0-9_-]*)/g)) if (!config.variable[name]) problems.push(`${file}: var.${name}`);
          for (const [, name] of expr.matchAll(/\blocal\.([A-Za-z_][A-Za-z0-9_-]*)/g)) if (!(name in config.locals)) problems.push(`${file}: local.${name}`);
          for (const [, type, name] of expr.matchAll(/\b((?:google|random)_[a-z0-9_]+)\.([A-Za-z_][A-Za-z0-9_-]*)/g)) {
            if (!config.resource[type]?.[name]) problems.push(`${file}: ${type}.${name}`);
          }
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it("every resource made optional by count is indexed wherever it is used", () => {
    const counted = [];
    for (const [type, byName] of Object.entries(config.resource)) for (const [name, r] of Object.entries(byName)) if ("count" in r) counted.push(`${type}.${name}`);
    const problems = [];
    for (const [file, json] of Object.entries(parsed)) {
      // depends_on names the whole resource, which is right for a counted one.
      for (const s of strings(json, [], ["depends_on"])) {
        for (const expr of interpolations(s)) {
          for (const ref of counted) {
            for (const m of expr.matchAll(new RegExp(`\\b${ref.replace(".", "\\.")}(.?)`, "g"))) {
              if (m[1] !== "[") problems.push(`${file}: ${ref} used without an index in \${${expr}}`);
            }
          }
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it("routes the measurement path (and nothing else) to the gateway backend", () => {
    const urlMap = config.resource.google_compute_url_map.site;
    assert.equal(urlMap.default_service, "${var.site_backend_service}");
    const matcher = urlMap.path_matcher[0];
    assert.equal(urlMap.host_rule[0].path_matcher, matcher.name);
    assert.equal(urlMap.host_rule[0].hosts, "${var.site_hosts}");
    assert.equal(matcher.default_service, "${var.site_backend_service}");
    assert.equal(matcher.path_rule.length, 1);
    const rule = matcher.path_rule[0];
    assert.deepEqual(rule.paths, ["${var.measurement_path}", "${var.measurement_path}/*"]);
    assert.equal(rule.service, "${google_compute_backend_service.gateway.id}");
    assert.equal(variableDefault("measurement_path"), "/metrics");
  });

  it("the gateway backend adds the geolocation and secret headers, and never caches", () => {
    const backend = config.resource.google_compute_backend_service.gateway;
    assert.equal(backend.load_balancing_scheme, "EXTERNAL_MANAGED");
    assert.equal(backend.enable_cdn, false);
    const headers = resolveHeaders(backend.custom_request_headers);
    const names = headers.map((h) => h.slice(0, h.indexOf(":")).toLowerCase());
    assert.deepEqual(names.sort(), ["x-gclb-country", "x-gclb-region", "x-taggateway-secret"]);
    assert.ok(headers.includes("X-Gclb-Country:{client_region}"));
    assert.ok(headers.includes("X-Gclb-Region:{client_region_subdivision}"));
    // Backends: a serverless NEG for Cloud Run, or the VMs' instance group.
    assert.match(backend.backend[0].group, /local\.gateway_backend_group/);
    assert.match(config.locals.gateway_backend_group, /google_compute_region_network_endpoint_group\.gateway/);
    assert.match(config.locals.gateway_backend_group, /var\.instance_group/);
    const neg = config.resource.google_compute_region_network_endpoint_group.gateway;
    assert.equal(neg.network_endpoint_type, "SERVERLESS");
    assert.equal(neg.cloud_run[0].service, "${google_cloud_run_v2_service.gateway[0].name}");
  });

  it("defines the Cloud Run service: internal-LB ingress, concurrency, min instances, CPU and memory", () => {
    const run = config.resource.google_cloud_run_v2_service.gateway;
    assert.equal(run.ingress, "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER");
    const t = run.template[0];
    assert.equal(t.max_instance_request_concurrency, "${var.cloud_run.concurrency}");
    assert.equal(t.scaling[0].min_instance_count, "${var.cloud_run.min_instances}");
    assert.equal(t.scaling[0].max_instance_count, "${var.cloud_run.max_instances}");
    const c = t.containers[0];
    assert.deepEqual(c.resources[0].limits, { cpu: "${var.cloud_run.cpu}", memory: "${var.cloud_run.memory}" });
    assert.equal(c.resources[0].cpu_idle, false);
    assert.equal(c.ports[0].container_port, 8080);
    const sizing = variableDefault("cloud_run");
    assert.ok(sizing === undefined || typeof sizing === "object");
    const type = config.variable.cloud_run.type;
    for (const field of ["concurrency", "min_instances", "max_instances", "cpu", "memory"]) assert.match(type, new RegExp(`${field}\\s*=\\s*optional\\(`), field);
    assert.match(type, /min_instances\s*=\s*optional\(number,\s*1\)/);
  });

  it("never writes the shared secret into the configuration", () => {
    for (const f of [...tfFiles, "terraform.tfvars.example"]) {
      const text = fs.readFileSync(path.join(GCP_DIR, f), "utf8");
      assert.doesNotMatch(text, /EdgeSecret"\s*\n\s*value\s*=/, `${f}: EdgeSecret must come from Secret Manager`);
    }
    const env = cloudRunEnv();
    assert.ok(env.secretNames.includes("Gateway__ClientIdentity__EdgeSecret"));
  });
});

/** custom_request_headers as the list of "Name:value" strings it evaluates to. */
function resolveHeaders(expr) {
  if (Array.isArray(expr)) return expr;
  const m = /^\$\{local\.([a-z_]+)\}$/.exec(expr);
  assert.ok(m, `custom_request_headers is a literal list or a local: ${expr}`);
  return config.locals[m[1]];
}

/** The Cloud Run container's environment, with Terraform values filled in for a test. */
function cloudRunEnv() {
  const c = config.resource.google_cloud_run_v2_service.gateway.template[0].containers[0];
  const env = {};
  const secretNames = [];
  for (const e of c.env) {
    if (e.value_source) {
      secretNames.push(e.name);
      assert.equal(e.value_source[0].secret_key_ref[0].secret, "${google_secret_manager_secret.edge_secret.secret_id}");
      env[e.name] = SECRET;
    } else {
      env[e.name] = String(e.value).replace(/\$\{var\.([a-z_]+)\}/g, (_, v) => variableDefault(v));
      assert.doesNotMatch(env[e.name], /\$\{/, `${e.name} has only known interpolations`);
    }
  }
  const dyn = c.dynamic?.env?.[0];
  assert.ok(dyn, "tag IDs come from var.tag_ids");
  assert.match(dyn.for_each, /var\.tag_ids/);
  assert.match(dyn.for_each, /Gateway__TagIds__\$\{index\}/);
  TAG_IDS.forEach((id, i) => (env[`Gateway__TagIds__${i}`] = id));
  return { env, secretNames };
}

/** Headers the load balancer sends for a visitor, from the Terraform values. */
function lbHeaders({ client, country, subdivision, clientXff, secret = SECRET }) {
  const headers = {};
  for (const h of resolveHeaders(config.resource.google_compute_backend_service.gateway.custom_request_headers)) {
    const colon = h.indexOf(":");
    const name = h.slice(0, colon);
    const value = h
      .slice(colon + 1)
      .replace("{client_region}", country)
      .replace("{client_region_subdivision}", subdivision)
      .replace("${random_password.edge_secret.result}", secret);
    assert.doesNotMatch(value, /[{}]/, `unknown variable left in ${h}`);
    headers[name] = value;
  }
  // Added by the load balancer itself, not by configuration.
  headers["X-Forwarded-For"] = clientXff ? `${clientXff},${client},${LB_IP}` : `${client},${LB_IP}`;
  headers["X-Forwarded-Proto"] = "https";
  headers["Via"] = "1.1 google";
  return headers;
}

describe("gateway behind the GCP load balancer (headers from this Terraform)", () => {
  let upstream, gateway, tfEnv;
  before(async () => {
    upstream = await startFakeUpstream();
    tfEnv = cloudRunEnv().env;
    assert.equal(tfEnv.Gateway__PublicUrl, "http://0.0.0.0:8080");
    const env = { ...tfEnv };
    // Loopback ports instead of Cloud Run's 0.0.0.0:8080 / :9090.
    delete env.Gateway__PublicUrl;
    delete env.Gateway__ManagementUrl;
    gateway = await startGateway({ name: "gcp", upstream: upstream.origin, env });
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  const cases = [
    { what: "US visitor (CLDR USCA)", client: "198.51.100.23", country: "US", subdivision: "USCA", ip: "198.51.100.23", geo: "US-CA" },
    { what: "visitor who sent their own X-Forwarded-For", client: "198.51.100.24", country: "NL", subdivision: "NLNH", clientXff: "6.6.6.6, 7.7.7.7", ip: "198.51.100.24", geo: "NL-NH" },
    { what: "three-letter subdivision (GBENG)", client: "198.51.100.25", country: "GB", subdivision: "GBENG", ip: "198.51.100.25", geo: "GB-ENG" },
    { what: "unknown subdivision (empty)", client: "198.51.100.26", country: "DE", subdivision: "", ip: "198.51.100.26", geo: "DE" },
    { what: "IPv6 visitor", client: "2001:db8::26", country: "JP", subdivision: "JP13", ip: "2001:db8::26", geo: "JP-13" },
  ];
  for (const c of cases) {
    it(`hit: ${c.what} -> ${c.ip} ${c.geo}`, async () => {
      const m = upstream.mark();
      const res = await request(`${gateway.url}/metrics/g/collect?v=2&tid=${TAG_IDS[0]}&en=page_view`, { method: "POST", headers: lbHeaders(c), body: "" });
      assert.equal(res.status, 204);
      // Google's Set-Cookie come first, unchanged; the gateway's own identifier cookies may follow (region defaults).
      assert.deepEqual(res.setCookies.slice(0, FAKE_COOKIES.length), FAKE_COOKIES);
      const [up] = upstream.since(m, "/metrics/g/collect");
      assert.ok(up, "hit forwarded");
      assert.equal(up.headers["x-forwarded-for"], c.ip);
      assert.equal(up.headers["x-forwarded-countryregion"], c.geo);
      for (const h of Object.keys(up.headers)) assert.doesNotMatch(h, /^(x-taggateway-|x-gclb-)/, `${h} must not reach Google`);
    });
  }

  it("script load carries the geo too", async () => {
    const m = upstream.mark();
    const res = await request(`${gateway.url}/metrics/gtag/js?id=${TAG_IDS[0]}&l=dataLayerGcp1`, { headers: lbHeaders(cases[0]) });
    assert.equal(res.status, 200);
    assert.match(res.text, /fake google tag/);
    const [up] = upstream.since(m, "/metrics/gtag/js");
    assert.equal(up.headers["x-forwarded-countryregion"], "US-CA");
    assert.ok([undefined, "198.51.100.23"].includes(up.headers["x-forwarded-for"]), `script fetch X-Forwarded-For: ${up.headers["x-forwarded-for"]}`);
  });

  for (const [what, secret] of [["without the secret", null], ["with a wrong secret", "x".repeat(SECRET.length)]]) {
    it(`a request ${what} gets no trust`, async () => {
      const headers = lbHeaders({ ...cases[0], secret: secret ?? "" });
      if (secret === null) delete headers["X-TagGateway-Secret"];
      const m = upstream.mark();
      const res = await request(`${gateway.url}/metrics/g/collect?v=2&tid=${TAG_IDS[0]}&en=untrusted`, { headers });
      assert.equal(res.status, 204);
      const [up] = upstream.since(m, "/metrics/g/collect");
      assert.equal(up.headers["x-forwarded-for"], "127.0.0.1");
      assert.equal(up.headers["x-forwarded-countryregion"], undefined);
    });
  }
});
