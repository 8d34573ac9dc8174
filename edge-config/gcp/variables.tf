variable "project_id" {
  description = "Google Cloud project that holds the site's external Application Load Balancer."
  type        = string
}

variable "region" {
  description = "Region for the Cloud Run service and its serverless NEG."
  type        = string
  default     = "europe-west1"
}

variable "name" {
  description = "Prefix for every resource this configuration creates."
  type        = string
  default     = "taggateway"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,40}[a-z0-9]$", var.name))
    error_message = "name must be a lower-case RFC 1035 label of at most 42 characters."
  }
}

variable "site_hosts" {
  description = "Host names of the site, e.g. [\"www.example.com\", \"example.com\"]. Measurement requests on these hosts go to the gateway."
  type        = list(string)
}

variable "site_backend_service" {
  description = "Self link or id of the backend service (or backend bucket) that serves the rest of the site today."
  type        = string
}

variable "measurement_path" {
  description = "Path the site reserves for Google tags and hits (Gateway__MeasurementPath). One segment, letters and digits."
  type        = string
  default     = "/metrics"

  validation {
    condition     = can(regex("^/[A-Za-z0-9]{1,99}$", var.measurement_path))
    error_message = "measurement_path must be \"/\" followed by 1-99 letters or digits, e.g. /metrics."
  }
}

variable "tag_ids" {
  description = "Google tag IDs served through the gateway (G-, GT-, GTM-, AW-, DC-)."
  type        = list(string)

  validation {
    condition     = length(var.tag_ids) > 0 && alltrue([for id in var.tag_ids : can(regex("^(G|GT|GTM|AW|DC)-[A-Z0-9]{4,16}$", id))])
    error_message = "tag_ids must be one or more IDs like G-ABC123 or GTM-XYZ789."
  }
}

variable "backend" {
  description = "Where the gateway runs: \"cloud_run\" (serverless NEG, created here) or \"instance_group\" (your VMs running the systemd unit from edge-config/vm)."
  type        = string
  default     = "cloud_run"

  validation {
    condition     = contains(["cloud_run", "instance_group"], var.backend)
    error_message = "backend must be \"cloud_run\" or \"instance_group\"."
  }
}

# --- Cloud Run -------------------------------------------------------------

variable "image" {
  description = "Container image of the gateway (the repository's Dockerfile.aot), e.g. europe-west1-docker.pkg.dev/my-project/taggateway/taggateway:1.0.0. Only for backend = \"cloud_run\"."
  type        = string
  default     = ""
}

variable "cloud_run" {
  description = "Cloud Run sizing. The gateway is I/O bound: one vCPU handles hundreds of concurrent hits."
  type = object({
    concurrency   = optional(number, 250)
    min_instances = optional(number, 1)
    max_instances = optional(number, 10)
    cpu           = optional(string, "1")
    memory        = optional(string, "512Mi")
    timeout       = optional(string, "30s")
  })
  default = {}
}

# --- Instance group (VMs) --------------------------------------------------

variable "instance_group" {
  description = "Self link of the instance group whose VMs run the gateway (named port \"taggateway\" -> 8080, management on 9090). Only for backend = \"instance_group\"."
  type        = string
  default     = ""
}

variable "network" {
  description = "VPC network of the instance group, for the firewall rule that admits the load balancer. Only for backend = \"instance_group\"."
  type        = string
  default     = "default"
}

variable "instance_tags" {
  description = "Network tags of the gateway VMs. Only for backend = \"instance_group\"."
  type        = list(string)
  default     = ["taggateway"]
}

# --- Load balancer front end -----------------------------------------------

variable "create_frontend" {
  description = "Also create the load balancer front end (global IP, managed certificate, HTTPS proxy, forwarding rules). Leave false when the site already has one: then point its HTTPS proxy at the URL map created here, or import the existing URL map (see README)."
  type        = bool
  default     = false
}
