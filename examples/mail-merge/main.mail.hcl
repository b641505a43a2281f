# Mail merge: one letter per row of recipients.csv, each with its own PDF
# letters/<id>.pdf. Adding a row posts one more letter on the next apply;
# removing a row only stops tracking it (nothing posted is ever unsent).

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

mailing "letter" {
  # The csv's id column is the key: mailing.letter["c001"], …
  for_each = { for r in csvdecode(file("recipients.csv")) : r.id => r }

  service  = each.value.registered == "yes" ? "Lettre recommandée avec AR" : "Lettre simple"
  job_name = "merge-${var.batch}-${each.key}"

  document {
    file = "letters/${each.key}.pdf"
  }

  options = { printMode = "1SIDE" }
}

output "tracking" {
  value = { for k, m in mailing.letter : k => m.tracking_numbers }
}
