output "url_map" {
  description = "URL map to attach to the site's HTTPS proxy (gcloud compute target-https-proxies update PROXY --url-map=...)."
  value       = google_compute_url_map.site.id
}

output "gateway_backend_service" {
  description = "Backend service that receives the measurement path."
  value       = google_compute_backend_service.gateway.id
}

output "cloud_run_service" {
  description = "Cloud Run service name (backend = cloud_run)."
  value       = one(google_cloud_run_v2_service.gateway[*].name)
}

output "load_balancer_ip" {
  description = "Global IP of the front end (create_frontend = true): point the site's DNS A records here."
  value       = one(google_compute_global_address.site[*].address)
}

output "edge_secret" {
  description = "Value for Gateway__ClientIdentity__EdgeSecret on gateway VMs (backend = instance_group). terraform output -raw edge_secret"
  value       = random_password.edge_secret.result
  sensitive   = true
}
