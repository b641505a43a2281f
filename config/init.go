package config

// InitFiles returns the files "postform init" writes into an empty working
// directory: a main.mail.hcl with one mailing posted to the built-in
// sandbox, and a .gitignore. The mailing's document is letter.pdf, which
// the caller writes alongside.
func InitFiles() map[string][]byte {
	return map[string][]byte{
		"main.mail.hcl": []byte(initMain),
		".gitignore":    []byte(initGitignore),
	}
}

const initMain = `# postform: physical mail as code. "postform plan" shows what would be
# posted; "postform apply" posts it, exactly once.

postform {
  required_version = ">= 0.1"
  # At most this many letters per plan: a plan that would post more is
  # refused (letters cannot be recalled). Raise it for a larger mailing.
  max_posts = 100
  backend "local" {
    path = "postform.state.json"
  }
}

provider "nirva" {
  # "sandbox" is the built-in simulator: nothing is really posted.
  # For real mail, set the API URL and POSTFORM_LOGIN / POSTFORM_PASSWORD.
  endpoint = "sandbox"
}

variable "batch" {
  type        = string
  default     = "first"
  description = "Goes into the job name, so a new batch is a new set of letters."
}

mailing "welcome" {
  service  = "Lettre simple"
  job_name = "welcome-${var.batch}"

  document {
    file = "letter.pdf"
  }

  options = {
    printMode = "1SIDE"
  }
}

output "welcome_tracking" {
  value = mailing.welcome.tracking_numbers
}
`

const initGitignore = `# postform state and downloaded proofs: keep them, but not in git
# (use a pg backend to share state between machines).
postform.state.json
postform.state.json.*
proofs/
.postform/
`
