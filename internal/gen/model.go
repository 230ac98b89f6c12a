package gen

import "math/rand/v2"

// The product is Ledgerly, an accounting app: the seed's example. This file
// holds its fixed vocabulary: pages, events, personas, plans, countries,
// devices and traffic channels, with the weights that make them realistic.

const (
	appURL    = "https://app.ledgerly.io"
	marketURL = "https://www.ledgerly.io"
	siteTitle = " · Ledgerly"
)

// page is one page of the app or of the marketing site.
type page struct {
	path, name string
	url, title string  // filled by init
	act        float64 // chance that the next step is an action here rather than another page
	actions    []action
}

// action is a track event a page offers, with its weight among the page's
// actions.
type action struct {
	event  string
	weight float64
}

// Page indexes into appPages; the order matters for the persona weights.
const (
	pDashboard = iota
	pInvoices
	pInvoiceNew
	pExpenses
	pBanking
	pReports
	pProfitLoss
	pTax
	pCustomers
	pSettings
	pBilling
	pIntegrations
	pPricing
	numAppPages
)

var appPages = [numAppPages]page{
	pDashboard:    {path: "/dashboard", name: "Dashboard", act: 0.15, actions: []action{{"Search", 1}}},
	pInvoices:     {path: "/invoices", name: "Invoices", act: 0.45, actions: []action{{"Invoice Sent", 3}, {"Export", 1}, {"Search", 1}}},
	pInvoiceNew:   {path: "/invoices/new", name: "New invoice", act: 0.45, actions: []action{{"Invoice Created", 5}, {"Invoice Sent", 3}}},
	pExpenses:     {path: "/expenses", name: "Expenses", act: 0.45, actions: []action{{"Expense Added", 4}, {"Receipt Uploaded", 2}, {"Export", 0.5}}},
	pBanking:      {path: "/banking", name: "Banking", act: 0.45, actions: []action{{"Transactions Reconciled", 4}, {"Bank Connected", 0.3}, {"Export", 1}}},
	pReports:      {path: "/reports", name: "Reports", act: 0.45, actions: []action{{"Report Viewed", 3}, {"Export", 1.5}, {"Report Exported", 1}}},
	pProfitLoss:   {path: "/reports/profit-and-loss", name: "Profit and loss", act: 0.45, actions: []action{{"Report Viewed", 2}, {"Report Exported", 1.5}, {"Export", 1}}},
	pTax:          {path: "/reports/tax", name: "Tax", act: 0.45, actions: []action{{"Report Viewed", 2}, {"Report Exported", 1}, {"Export", 1}, {"Tax Return Filed", 0.2}}},
	pCustomers:    {path: "/customers", name: "Customers", act: 0.45, actions: []action{{"Customer Added", 3}, {"Export", 0.3}}},
	pSettings:     {path: "/settings", name: "Settings", act: 0.3, actions: []action{{"Settings Updated", 1}, {"Teammate Invited", 0.3}}},
	pBilling:      {path: "/settings/billing", name: "Billing", act: 0.3, actions: []action{{"Billing Viewed", 1}}},
	pIntegrations: {path: "/integrations", name: "Integrations", act: 0.45, actions: []action{{"Integration Connected", 1}}},
	pPricing:      {path: "/pricing", name: "Pricing"},
}

// onboardingPages are the four steps of onboarding; signupPage starts it.
var (
	onboardingPages = [4]page{
		{path: "/onboarding/step-1", name: "Onboarding: company"},
		{path: "/onboarding/step-2", name: "Onboarding: bank"},
		{path: "/onboarding/step-3", name: "Onboarding: first invoice"},
		{path: "/onboarding/step-4", name: "Onboarding: invite"},
	}
	signupPage = page{path: "/signup", name: "Sign up"}
)

// marketingPages are what anonymous visitors see.
var marketingPages = []page{
	{path: "/", name: "Home"},
	{path: "/pricing", name: "Pricing"},
	{path: "/features", name: "Features"},
	{path: "/features/invoicing", name: "Invoicing"},
	{path: "/blog/how-to-write-an-invoice", name: "How to write an invoice"},
	{path: "/blog/quarterly-tax-deadlines", name: "Quarterly tax deadlines"},
	{path: "/signup", name: "Sign up"},
}

func init() {
	fill := func(p *page, base string) {
		p.url = base + p.path
		p.title = p.name + siteTitle
	}
	for i := range appPages {
		fill(&appPages[i], appURL)
	}
	for i := range onboardingPages {
		fill(&onboardingPages[i], appURL)
	}
	fill(&signupPage, appURL)
	for i := range marketingPages {
		fill(&marketingPages[i], marketURL)
	}
}

// Personas, from the seed: who uses an accounting app and for what.
const (
	personaOwner = iota
	personaAccountant
	personaBookkeeper
	personaFreelancer
	personaCFO
	numPersonas
)

var personaNames = [numPersonas]string{"small-business owner", "accountant", "bookkeeper", "freelancer", "cfo"}

// personaRoles is the role each persona usually has in its company.
var personaRoles = [numPersonas][]string{
	{"owner"}, {"admin", "member"}, {"member"}, {"owner"}, {"admin"},
}

// pageWeights says which app pages each persona goes to: owners and
// freelancers invoice, accountants report and file taxes, bookkeepers
// reconcile, CFOs read reports.
var pageWeights = [numPersonas][numAppPages]float64{
	personaOwner:      {4, 5, 4, 2, 1.5, 1.5, 1, 0.5, 2, 0.6, 0.3, 0.3, 0.3},
	personaAccountant: {3, 2, 1, 1.5, 3, 4, 3, 3, 1, 0.5, 0.2, 0.4, 0.1},
	personaBookkeeper: {3, 3, 1.5, 4, 5, 2, 1, 1, 1.5, 0.4, 0.2, 0.5, 0.1},
	personaFreelancer: {3, 5, 5, 3, 1, 1, 0.5, 1, 1.5, 0.4, 0.3, 0.2, 0.4},
	personaCFO:        {5, 1.5, 0.3, 1, 2, 5, 4, 2, 0.5, 0.6, 0.4, 0.3, 0.1},
}

// Plans. planNone is a plan that was unset, as some churned trials are.
const (
	planNone = iota
	planFree
	planTrial
	planPro
	planEnterprise
	planChurned
)

var planNames = [...]string{"", "free", "trial", "pro", "enterprise", "churned"}

// country is a country with what goes with it.
type country struct {
	code, language, locale, timezone, currency string
	weight                                     float64
}

var countries = []country{
	{"US", "en", "en-US", "America/New_York", "USD", 26},
	{"US", "en", "en-US", "America/Los_Angeles", "USD", 10},
	{"GB", "en", "en-GB", "Europe/London", "GBP", 12},
	{"CA", "en", "en-CA", "America/Toronto", "CAD", 7},
	{"AU", "en", "en-AU", "Australia/Sydney", "AUD", 5},
	{"DE", "de", "de-DE", "Europe/Berlin", "EUR", 7},
	{"FR", "fr", "fr-FR", "Europe/Paris", "EUR", 5},
	{"NL", "nl", "nl-NL", "Europe/Amsterdam", "EUR", 4},
	{"ES", "es", "es-ES", "Europe/Madrid", "EUR", 3},
	{"IN", "en", "en-IN", "Asia/Kolkata", "INR", 5},
	{"BR", "pt", "pt-BR", "America/Sao_Paulo", "BRL", 3},
	{"NO", "nb", "nb-NO", "Europe/Oslo", "NOK", 2},
	{"SE", "sv", "sv-SE", "Europe/Stockholm", "SEK", 2},
	{"IE", "en", "en-IE", "Europe/Dublin", "EUR", 2},
	{"NZ", "en", "en-NZ", "Pacific/Auckland", "NZD", 2},
	{"ZA", "en", "en-ZA", "Africa/Johannesburg", "ZAR", 3},
}

// device is a browser, OS and device type that occur together.
type device struct {
	deviceType, browser, os string
	weight                  float64
}

var devices = []device{
	{"desktop", "Chrome", "Windows", 34},
	{"desktop", "Edge", "Windows", 9},
	{"desktop", "Chrome", "MacOS", 11},
	{"desktop", "Safari", "MacOS", 11},
	{"desktop", "Firefox", "Windows", 4},
	{"desktop", "Firefox", "Linux", 2},
	{"desktop", "Chrome", "Linux", 3},
	{"mobile", "Safari", "iOS", 11},
	{"mobile", "Chrome", "Android", 8},
	{"mobile", "Samsung Browser", "Android", 1},
	{"tablet", "Safari", "iOS", 4},
	{"tablet", "Chrome", "Android", 1},
}

// channel is how a session arrived, as the tracker would classify it.
type channel struct {
	name, referrer, utmSource, utmMedium, utmCampaign string
}

var (
	chDirect        = channel{name: "direct"}
	chGoogle        = channel{"organic_search", "https://www.google.com/", "", "", ""}
	chBing          = channel{"organic_search", "https://www.bing.com/", "", "", ""}
	chEmail         = channel{"email", "", "newsletter", "email", "monthly-digest"}
	chPaidSearch    = channel{"paid_search", "https://www.google.com/", "google", "cpc", "brand-search"}
	chCapterra      = channel{"referral", "https://www.capterra.com/", "", "", ""}
	chLinkedIn      = channel{"organic_social", "https://www.linkedin.com/", "", "", ""}
	chFacebookAd    = channel{"paid_social", "https://www.facebook.com/", "facebook", "paid_social", "smb-retargeting"}
	chPartner       = channel{"affiliate", "https://partners.ledgerly.io/", "partner", "affiliate", "accountant-program"}
	returnChannels  = []channel{chDirect, chGoogle, chEmail, chBing, chPaidSearch, chLinkedIn}
	returnWeights   = []float64{55, 15, 15, 3, 6, 6}
	referralSources = []struct {
		name string
		ch   channel
		w    float64
	}{
		{"google", chGoogle, 30}, {"capterra", chCapterra, 10}, {"linkedin", chLinkedIn, 8},
		{"accountant referral", chPartner, 12}, {"word of mouth", chDirect, 20}, {"partner", chPartner, 6},
		{"podcast", chDirect, 4}, {"facebook ad", chFacebookAd, 10},
	}
)

var industries = []string{"retail", "construction", "professional services", "hospitality", "healthcare",
	"technology", "manufacturing", "real estate", "nonprofit", "creative", "transport", "education"}

var (
	firstNames = []string{"Anna", "Ben", "Carla", "David", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas",
		"Kara", "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera",
		"Will", "Ximena", "Yusuf", "Zoe"}
	lastNames = []string{"Andersen", "Brown", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen",
		"Ito", "Jensen", "Kowalski", "Lopez", "Martin", "Nguyen", "Olsen", "Patel", "Quist", "Rossi",
		"Smith", "Tanaka", "Usman", "Varga", "Weber", "Xu", "Young", "Zimmer"}
	companyWords = []string{"north", "bright", "harbor", "oak", "summit", "river", "pine", "copper", "maple",
		"stone", "blue", "cedar", "silver", "lake", "granite", "meadow"}
	companyNouns = []string{"bakery", "builders", "studio", "consulting", "dental", "logistics", "labs",
		"designs", "farms", "media", "clinic", "works", "partners", "supply", "cafe", "legal"}
	banks        = []string{"Chase", "Bank of America", "Wells Fargo", "HSBC", "Barclays", "DNB", "ING", "Revolut"}
	integrations = []string{"stripe", "shopify", "paypal", "gusto", "square", "hubspot"}
	categories   = []string{"travel", "software", "office", "meals", "equipment", "marketing"}
	formats      = []string{"csv", "xlsx", "pdf"}
	reports      = []string{"profit-and-loss", "balance-sheet", "cash-flow", "tax-summary", "aged-receivables"}
)

// weighted picks an index with probability proportional to its weight.
type weighted []float64 // cumulative

func newWeighted(w []float64) weighted {
	c := make(weighted, len(w))
	var sum float64
	for i, x := range w {
		sum += x
		c[i] = sum
	}
	return c
}

func (c weighted) pick(r *rand.Rand) int {
	x := r.Float64() * c[len(c)-1]
	lo, hi := 0, len(c)-1
	for lo < hi {
		m := (lo + hi) / 2
		if c[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}
