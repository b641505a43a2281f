# Mail merge: one letter per row of recipients.csv, written once in
# letters/letter.md and rendered by postform into the PDF that is posted.
# Adding a row posts one more letter on the next apply; removing a row only
# stops tracking it (nothing posted is ever unsent).

postform {
  backend "local" {
    path = "postform.state.json"
  }
}

provider "nirva" {
  endpoint = "sandbox" # the built-in simulator: nothing is really posted
}

variable "batch" {
  type        = string
  default     = "2026-11"
  description = "Part of every job name: a new batch is a new set of letters."

  validation {
    condition     = can(regex("^[0-9]{4}-[0-9]{2}$", var.batch))
    error_message = "The batch is a month, YYYY-MM."
  }
}

locals {
  sender = {
    name     = "Exemple SAS"
    lines    = ["Service clients", "10 rue de Rivoli"]
    postcode = "75004"
    city     = "Paris"
  }
}

mailing "letter" {
  # The csv's id column is the key: mailing.letter["c001"], …
  for_each = { for r in csvdecode(file("recipients.csv")) : r.id => r }

  service  = each.value.registered == "yes" ? "Lettre recommandée avec AR" : "Lettre simple"
  job_name = "merge-${var.batch}-${each.key}"

  letter {
    from = local.sender
    to = {
      name     = each.value.name
      lines    = [each.value.street]
      postcode = each.value.postcode
      city     = each.value.city
    }
    date      = "2026-11-20"
    subject   = "Facture ${each.value.invoice} restant due"
    body      = templatefile("letters/letter.md", each.value)
    signature = "Le service clients"
    footer    = "Exemple SAS — 10 rue de Rivoli, 75004 Paris — RCS Paris 123 456 789"
  }

  options = { printMode = "1SIDE" }
}

output "tracking" {
  value = { for k, m in mailing.letter : k => m.tracking_numbers }
}
