customers = {
  acme   = { letter = "letters/acme.pdf", duplex = true }
  globex = { letter = "letters/globex.pdf" }
}
