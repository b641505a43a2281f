# The quickstart: three letters posted through the built-in sandbox, which
# simulates the Nirva hybrid-mail platform on an accelerated clock (a letter
# goes from posted to delivered, with its proofs, in about a minute).

postform {
  backend "local" {
    path = "postform.state.json"
  }
}

provider "nirva" {
  endpoint = "sandbox"
  login    = var.login
  password = var.password
}

variable "login" {
  type    = string
  default = "demo@example.com"
}

variable "password" {
  type      = string
  default   = "demo" # the sandbox takes any password but "wrong"
  sensitive = true
}

locals {
  batch = "2026-11"
}

# One invoice per customer: for_each gives each letter a stable address,
# mailing.invoice["acme"], that the state tracks across runs.
mailing "invoice" {
  for_each = {
    acme   = "letters/invoice-acme.pdf"
    globex = "letters/invoice-globex.pdf"
  }

  service  = "Lettre simple"
  job_name = "invoice-${local.batch}-${each.key}"

  document {
    file = each.value
  }

  options = { printMode = "1SIDE" }
  proofs  = ["CERTIF", "TRACKING_DETAIL", "ACKN"]
}

# A formal notice, sent registered with acknowledgement of receipt.
mailing "notice" {
  service  = "Lettre recommandée avec AR"
  job_name = "notice-${local.batch}-initech"

  document {
    box  = "main"
    file = "letters/notice-initech.pdf"
  }

  proofs = ["CERTIF", "TRACKING_DETAIL", "ACKN"]
}

output "tracking" {
  value = {
    invoices = { for k, m in mailing.invoice : k => m.tracking_numbers }
    notice   = mailing.notice.tracking_numbers
  }
}
