package nirva

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
)

// One method per endpoint; each answer is decoded by callJSON (request.go)
// and scrubbed of the session's secrets (redact.go).

// Job reads one job's status.
func (c *Client) Job(ctx context.Context, jobID string) (*Job, error) {
	j, err := getJSON(ctx, c, pathJob(jobID), nil, wireJob.one)
	if err != nil {
		return nil, err
	}
	c.scrubJob(j, "")
	return j, nil
}

// JobsByName lists the jobs named exactly name, newest first. A platform
// without the lookup (404/405 on the endpoint) gives ErrLookupUnavailable.
func (c *Client) JobsByName(ctx context.Context, name string) ([]Job, error) {
	jobs, err := getJSON(ctx, c, pathJobs, url.Values{queryJobName: {name}}, list(wireJob.job))
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.StatusCode == http.StatusMethodNotAllowed) {
			return nil, fmt.Errorf("%w: %w", ErrLookupUnavailable, err)
		}
		return nil, err
	}
	// A platform that ignored the filter answers with other jobs (maybe one
	// page of them): an empty match would then not mean "no such job", and
	// concluding "not posted" from it could post a letter twice.
	for i := range jobs {
		j := &jobs[i]
		if j.Name != name {
			c.scrubJob(j, "")
			return nil, fmt.Errorf("%w: asked for jobs named %q, the platform answered with job %s named %q (the filter is not supported)", ErrLookupUnavailable, name, j.ID, j.Name)
		}
		c.scrubJob(j, name)
	}
	sortNewestFirst(jobs)
	return jobs, nil
}

func sortNewestFirst(jobs []Job) {
	// Stable: the platform's order breaks ties.
	slices.SortStableFunc(jobs, func(a, b Job) int { return b.Created.Compare(a.Created) })
}

// PackGroups lists a job's pack groups.
func (c *Client) PackGroups(ctx context.Context, jobID string) ([]PackGroup, error) {
	pgs, err := getJSON(ctx, c, pathPackGroups(jobID), nil, list(wirePackGroup.packGroup))
	for i := range pgs {
		c.scrubPackGroup(&pgs[i])
	}
	return pgs, err
}

// EditPackGroup replaces a pack group's raw value. Writing the same raw
// twice is harmless, so it is retried like a GET.
func (c *Client) EditPackGroup(ctx context.Context, packGroupID string, raw map[string]any) (*PackGroup, error) {
	body, err := json.Marshal(wireEditPackGroup{Raw: raw})
	if err != nil {
		return nil, fmt.Errorf("nirva: encoding pack group raw value: %w", err)
	}
	pg, err := callJSON(ctx, c, call{method: http.MethodPost, path: pathEditPackGroup(packGroupID), retry: true, body: jsonBody(body)}, wirePackGroup.one)
	if err != nil {
		return nil, err
	}
	c.scrubPackGroup(pg)
	return pg, nil
}

// Deliveries lists a job's deliveries with their shipments.
func (c *Client) Deliveries(ctx context.Context, jobID string) ([]Delivery, error) {
	ds, err := getJSON(ctx, c, pathDeliveries, url.Values{queryJobID: {jobID}}, list(wireDelivery.delivery))
	for i := range ds {
		c.scrubDelivery(&ds[i])
	}
	return ds, err
}

// DownloadTrackingFile copies a shipment's tracking file (ACKN, CERTIF,
// TRACKING_DETAIL) into w. A 404 (not yet available) is an *APIError with
// StatusCode 404. Failures before the first byte are retried; a
// failure while copying (a stall, a file over MaxProofSize) returns an
// error and w may hold a partial file, which the caller must discard.
func (c *Client) DownloadTrackingFile(ctx context.Context, shipmentID, name string, w io.Writer) (int64, error) {
	resp, err := c.do(ctx, call{method: http.MethodGet, path: pathTrackingFile(shipmentID, name), retry: true, limit: c.cfg.MaxProofSize})
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	tooLarge := func() error {
		return fmt.Errorf("nirva: %w: proof %s of shipment %s is larger than the %s limit; the download was abandoned (raise max_proof_size_mb in the provider block if the platform's proofs are really this large)",
			ErrTooLarge, c.scrub(name), c.scrub(shipmentID), sizeText(c.cfg.MaxProofSize))
	}
	if resp.ContentLength > c.cfg.MaxProofSize {
		return 0, tooLarge()
	}
	n, err := io.Copy(w, resp.Body)
	if errors.Is(err, ErrTooLarge) {
		return n, tooLarge()
	}
	if err != nil {
		return n, fmt.Errorf("nirva: downloading %s of shipment %s: %w", c.scrub(name), c.scrub(shipmentID), err)
	}
	return n, nil
}

// OptionTypes lists the platform's option types (printMode, …).
func (c *Client) OptionTypes(ctx context.Context) ([]OptionType, error) {
	types, err := getJSON(ctx, c, pathOptionTypes, nil, list(wireOptionType.optionType))
	c.scrubOptions(types, nil)
	return types, err
}

// Options lists the platform's option values.
func (c *Client) Options(ctx context.Context) ([]Option, error) {
	opts, err := getJSON(ctx, c, pathOptions, nil, list(wireOption.option))
	c.scrubOptions(nil, opts)
	return opts, err
}
