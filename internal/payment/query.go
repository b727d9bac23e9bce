package payment

// Scope is who looks a payment request up: the portal that issued it, or the
// citizen it is addressed to (by the blind index of their pid). Exactly one is
// set; the store refuses the zero scope, so that no caller reads every
// portal's requests by forgetting to say whose.
type Scope struct {
	PortalID      string
	CitizenPIDIdx []byte
}

// PortalScope is the scope of portal portalID's requests.
func PortalScope(portalID string) Scope { return Scope{PortalID: portalID} }

// CitizenScope is the scope of the requests addressed to the citizen whose
// pid has the blind index pidIndex.
func CitizenScope(pidIndex []byte) Scope { return Scope{CitizenPIDIdx: pidIndex} }

// Filter narrows a list of requests within its Scope.
type Filter struct {
	Scope       Scope
	Status      string
	DossierCode string
	Before      string // id: list those older than it
	Limit       int
}

// Listed is one request of a list: its id and version, and the request
// itself unless the caller already knew that version.
type Listed struct {
	ID      string
	Version int
	Request *Request // nil when the caller knew this version
}
