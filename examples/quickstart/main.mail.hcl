# The quickstart: four letters posted through the built-in sandbox, which
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

# A reminder written here rather than in a PDF: postform renders it, the
# recipient inside the envelope's window
# (postform render mailing.reminder --out reminder.pdf shows it).
mailing "reminder" {
  service  = "Lettre simple"
  job_name = "reminder-${local.batch}-umbrella"

  letter {
    from = {
      name     = "Exemple SAS"
      lines    = ["Service comptabilité", "10 rue de Rivoli"]
      postcode = "75004"
      city     = "Paris"
    }
    to = {
      name     = "Umbrella SARL"
      lines    = ["Service Achats", "8 place Bellecour"]
      postcode = "69002"
      city     = "Lyon"
    }
    date      = "2026-11-20"
    subject   = "Relance : facture nº 2026-117"
    body      = <<-EOT
      Madame, Monsieur,

      Sauf erreur de notre part, la facture nº 2026-117 du 3 octobre, d’un
      montant de **1 250,00 €**, reste impayée à ce jour.

      Nous vous remercions de bien vouloir la régler sous huit jours.

      Veuillez agréer, Madame, Monsieur, nos salutations distinguées.
    EOT
    signature = "Le service comptabilité"
    footer    = "Exemple SAS — 10 rue de Rivoli, 75004 Paris — RCS Paris 123 456 789"
  }

  proofs = ["CERTIF", "TRACKING_DETAIL", "ACKN"]
}

output "tracking" {
  value = {
    invoices = { for k, m in mailing.invoice : k => m.tracking_numbers }
    notice   = mailing.notice.tracking_numbers
    reminder = mailing.reminder.tracking_numbers
  }
}
