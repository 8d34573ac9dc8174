# The backend service the measurement path is routed to, with the request
# headers the gateway needs. The load balancer itself always appends
# "<client-ip>,<load-balancer-ip>" to X-Forwarded-For and sets
# X-Forwarded-Proto; the custom headers add what only it knows.

locals {
  # Exactly the headers the gateway's GoogleLoadBalancer edge mode reads
  # (README: "Headers by edge"). {client_region} is the CLDR country (US),
  # {client_region_subdivision} the CLDR subdivision without a dash (USCA),
  # which the gateway turns into US-CA.
  gateway_request_headers = [
    "X-Gclb-Country:{client_region}",
    "X-Gclb-Region:{client_region_subdivision}",
    "X-TagGateway-Secret:${random_password.edge_secret.result}",
  ]

  gateway_backend_group = (
    var.backend == "cloud_run"
    ? one(google_compute_region_network_endpoint_group.gateway[*].id)
    : var.instance_group
  )
}

resource "google_compute_backend_service" "gateway" {
  name                  = "${var.name}-backend"
  description           = "TagGateway: ${var.measurement_path} on ${join(", ", var.site_hosts)}"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = var.backend == "cloud_run" ? "HTTPS" : "HTTP"
  port_name             = var.backend == "cloud_run" ? null : "taggateway"
  timeout_sec           = var.backend == "cloud_run" ? null : 30
  health_checks         = var.backend == "cloud_run" ? null : [google_compute_health_check.gateway[0].id]

  # Never cache here: hits must all reach the gateway, and the gateway caches
  # the scripts itself.
  enable_cdn = false

  custom_request_headers = local.gateway_request_headers

  backend {
    group           = local.gateway_backend_group
    balancing_mode  = var.backend == "cloud_run" ? null : "UTILIZATION"
    capacity_scaler = var.backend == "cloud_run" ? null : 1.0
  }

  log_config {
    # Off by default: request logs would hold every visitor's IP address.
    enable = false
  }
}

# --- Instance group only ---------------------------------------------------

resource "google_compute_health_check" "gateway" {
  count = var.backend == "instance_group" ? 1 : 0

  name                = "${var.name}-readyz"
  check_interval_sec  = 5
  timeout_sec         = 3
  healthy_threshold   = 2
  unhealthy_threshold = 3

  http_health_check {
    # Gateway__ManagementUrl must listen on the VM's address (not loopback)
    # for the health checker to reach /readyz; the firewall rule below admits
    # only Google's health-check and proxy ranges.
    port         = 9090
    request_path = "/readyz"
  }
}

resource "google_compute_firewall" "lb_to_gateway" {
  count = var.backend == "instance_group" ? 1 : 0

  name        = "${var.name}-allow-lb"
  network     = var.network
  description = "Google front ends and health checkers to the TagGateway VMs"
  direction   = "INGRESS"
  # Google's documented source ranges for global external Application Load
  # Balancer proxies and health checks. Use the same two ranges for
  # Gateway__ClientIdentity__TrustedProxies on the VMs.
  source_ranges = ["35.191.0.0/16", "130.211.0.0/22"]
  target_tags   = var.instance_tags

  allow {
    protocol = "tcp"
    ports    = ["8080", "9090"]
  }
}
