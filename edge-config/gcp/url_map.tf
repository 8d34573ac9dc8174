# The site's URL map: the measurement path goes to the gateway, everything
# else to the site's existing backend. If the site's load balancer already has
# a URL map, import it instead of creating a second one:
#   terraform import google_compute_url_map.site projects/PROJECT/global/urlMaps/NAME
# and carry its other host rules and path matchers over into this file.

resource "google_compute_url_map" "site" {
  name            = "${var.name}-site"
  description     = "Site URL map with the TagGateway measurement path ${var.measurement_path}"
  default_service = var.site_backend_service

  host_rule {
    hosts        = var.site_hosts
    path_matcher = "site"
  }

  path_matcher {
    name            = "site"
    default_service = var.site_backend_service

    # "/metrics" alone and everything below "/metrics/"; "/metricsfoo" and
    # every other path stay with the site.
    path_rule {
      paths   = [var.measurement_path, "${var.measurement_path}/*"]
      service = google_compute_backend_service.gateway.id
    }
  }
}

# --- Optional front end (create_frontend = true) ---------------------------

resource "google_compute_global_address" "site" {
  count = var.create_frontend ? 1 : 0

  name = "${var.name}-site-ip"
}

resource "google_compute_managed_ssl_certificate" "site" {
  count = var.create_frontend ? 1 : 0

  name = "${var.name}-site-cert"

  managed {
    domains = var.site_hosts
  }
}

resource "google_compute_target_https_proxy" "site" {
  count = var.create_frontend ? 1 : 0

  name             = "${var.name}-site-https"
  url_map          = google_compute_url_map.site.id
  ssl_certificates = [google_compute_managed_ssl_certificate.site[0].id]
}

resource "google_compute_global_forwarding_rule" "site_https" {
  count = var.create_frontend ? 1 : 0

  name                  = "${var.name}-site-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.site[0].id
  port_range            = "443"
  target                = google_compute_target_https_proxy.site[0].id
}

resource "google_compute_url_map" "http_redirect" {
  count = var.create_frontend ? 1 : 0

  name = "${var.name}-site-http-redirect"

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "http_redirect" {
  count = var.create_frontend ? 1 : 0

  name    = "${var.name}-site-http"
  url_map = google_compute_url_map.http_redirect[0].id
}

resource "google_compute_global_forwarding_rule" "site_http" {
  count = var.create_frontend ? 1 : 0

  name                  = "${var.name}-site-http"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.site[0].id
  port_range            = "80"
  target                = google_compute_target_http_proxy.http_redirect[0].id
}
