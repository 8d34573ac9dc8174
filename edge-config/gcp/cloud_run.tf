# The gateway as a Cloud Run service, reachable only through the load balancer
# (serverless NEG). Skipped when backend = "instance_group".

resource "google_service_account" "gateway" {
  count = var.backend == "cloud_run" ? 1 : 0

  account_id   = "${var.name}-run"
  display_name = "TagGateway Cloud Run service"
}

resource "google_cloud_run_v2_service" "gateway" {
  count = var.backend == "cloud_run" ? 1 : 0

  name     = var.name
  location = var.region
  # Only the external Application Load Balancer may reach it: the site's own
  # hostname is what makes the cookies first-party.
  ingress             = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
  deletion_protection = false

  template {
    service_account                  = google_service_account.gateway[0].email
    execution_environment            = "EXECUTION_ENVIRONMENT_GEN2"
    max_instance_request_concurrency = var.cloud_run.concurrency
    timeout                          = var.cloud_run.timeout

    scaling {
      # One warm instance keeps the first script load of a visit fast.
      min_instance_count = var.cloud_run.min_instances
      max_instance_count = var.cloud_run.max_instances
    }

    containers {
      image = var.image

      ports {
        name           = "http1"
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = var.cloud_run.cpu
          memory = var.cloud_run.memory
        }
        # CPU stays allocated between requests so the gateway can flush its
        # store and finish forwarding after the response has been sent.
        cpu_idle          = false
        startup_cpu_boost = true
      }

      env {
        name  = "Gateway__PublicUrl"
        value = "http://0.0.0.0:8080"
      }
      env {
        # Not reachable from outside the container: Cloud Run routes only the
        # container port. Probes below use it.
        name  = "Gateway__ManagementUrl"
        value = "http://0.0.0.0:9090"
      }
      env {
        name  = "Gateway__MeasurementPath"
        value = var.measurement_path
      }
      env {
        name  = "Gateway__Demo__Enabled"
        value = "false"
      }
      env {
        # Believe X-Forwarded-For (second from the right), X-Gclb-Country,
        # X-Gclb-Region and X-Forwarded-Proto as set by the load balancer.
        name  = "Gateway__ClientIdentity__Edge"
        value = "GoogleLoadBalancer"
      }
      env {
        # The address Cloud Run shows as the peer is Google's front end, not a
        # fixed range: trust is decided by the shared secret below, and ingress
        # admits nothing but the load balancer.
        name  = "Gateway__ClientIdentity__TrustedProxies__0"
        value = "0.0.0.0/0"
      }
      env {
        name  = "Gateway__ClientIdentity__TrustedProxies__1"
        value = "::/0"
      }
      env {
        name = "Gateway__ClientIdentity__EdgeSecret"
        value_source {
          secret_key_ref {
            secret  = google_secret_manager_secret.edge_secret.secret_id
            version = "latest"
          }
        }
      }
      env {
        # Graceful stop on SIGTERM (Cloud Run allows 10 s).
        name  = "DOTNET_SHUTDOWNTIMEOUTSECONDS"
        value = "8"
      }
      env {
        # No readiness delay: Cloud Run never reads /readyz to stop routing, so all 8 s go to draining.
        name  = "Gateway__ShutdownDelay"
        value = "00:00:00"
      }

      dynamic "env" {
        for_each = { for index, id in var.tag_ids : "Gateway__TagIds__${index}" => id }
        content {
          name  = env.key
          value = env.value
        }
      }

      startup_probe {
        http_get {
          path = "/readyz"
          port = 9090
        }
        period_seconds    = 2
        timeout_seconds   = 1
        failure_threshold = 15
      }

      liveness_probe {
        http_get {
          path = "/healthz"
          port = 9090
        }
        period_seconds    = 15
        timeout_seconds   = 2
        failure_threshold = 3
      }
    }
  }

  depends_on = [google_secret_manager_secret_iam_member.gateway_reads_edge_secret]
}

# The load balancer does not authenticate to Cloud Run; ingress (above) is
# what keeps everyone else out.
resource "google_cloud_run_v2_service_iam_member" "public_invoker" {
  count = var.backend == "cloud_run" ? 1 : 0

  name     = google_cloud_run_v2_service.gateway[0].name
  location = google_cloud_run_v2_service.gateway[0].location
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_compute_region_network_endpoint_group" "gateway" {
  count = var.backend == "cloud_run" ? 1 : 0

  name                  = "${var.name}-neg"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = google_cloud_run_v2_service.gateway[0].name
  }
}
