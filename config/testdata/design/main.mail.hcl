# The example of the design notes, as a fixture: every block type.
postform {
  required_version = ">= 0.1"
  backend "local" {
    path = "postform.state.json"
  }
}

provider "nirva" {
  endpoint = "https://api.example-postal-platform.com"
  login    = var.login
  password = var.password
}

variable "login" {
  type = string
}
variable "password" {
  type      = string
  sensitive = true
}
variable "customers" {
  type = map(object({ letter = string, duplex = optional(bool, false) }))
}

locals { batch = "2026-11" }

mailing "reminder" {
  for_each = var.customers
  service  = "Lettre recommandée avec AR"
  job_name = "reminder-${local.batch}-${each.key}"
  document {
    box  = "main"
    file = each.value.letter
  }
  options = { printMode = each.value.duplex ? "2SIDE" : "1SIDE" }
  owner   = null
  proofs  = ["CERTIF", "ACKN", "TRACKING_DETAIL"]
  fix     = { address = ["ACME SAS", "12 rue de la Paix", "75002 PARIS"] }
}

output "tracking" {
  value = { for k, m in mailing.reminder : k => m.tracking_numbers }
}
