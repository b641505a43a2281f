package reconcile

import "os"

// failpointEnv names the step at which the process kills itself
// (os.Process.Kill: SIGKILL on unix, TerminateProcess on Windows, so no
// build tags). The crash test suite sets it to prove that a run dying at
// any step of a create, a refresh or a proof download posts nothing twice
// and loses nothing. Unset, failpoints cost one string comparison.
const failpointEnv = "POSTFORM_CRASH_AT"

var crashAt = os.Getenv(failpointEnv)

// Failpoints, in the order a create goes through them.
const (
	fpBeforePending = "before-pending" // about to write the pending record
	fpAfterPending  = "after-pending"  // pending record durable, POST not sent
	fpAfterResponse = "after-response" // platform answered with a job id, not recorded
	fpAfterRecord   = "after-record"   // job id recorded
	fpMidBatch      = "mid-batch"      // earlier batches' job ids in memory only, about to ride on the next pending record
	fpMidRefresh    = "mid-refresh"    // job status fetched, state not updated
	fpMidProof      = "mid-proof"      // proof partly written to its temp file
)

func failpoint(name string) {
	if crashAt == name {
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Kill()
		}
		select {} // the kill is not delivered synchronously everywhere
	}
}
