# The shared secret that proves a request came through this load balancer.
# The load balancer adds it as X-TagGateway-Secret (backend.tf); the gateway
# reads the same value from Secret Manager (Gateway__ClientIdentity__EdgeSecret)
# and believes the geolocation headers only when the two match.

resource "random_password" "edge_secret" {
  length  = 48
  special = false
}

resource "google_secret_manager_secret" "edge_secret" {
  secret_id = "${var.name}-edge-secret"

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "edge_secret" {
  secret      = google_secret_manager_secret.edge_secret.id
  secret_data = random_password.edge_secret.result
}

resource "google_secret_manager_secret_iam_member" "gateway_reads_edge_secret" {
  count = var.backend == "cloud_run" ? 1 : 0

  secret_id = google_secret_manager_secret.edge_secret.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.gateway[0].email}"
}
