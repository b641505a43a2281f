package nirva

import "errors"

// What only the tests use, exported to the nirva_test package.

// RequestCount is the number of HTTP requests sent so far.
func (c *Client) RequestCount() int64 { return c.requests.Load() }

// IsNotFound reports a 404 from the platform.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == 404
}
