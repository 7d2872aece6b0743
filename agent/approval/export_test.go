package approval

// DisableRefresh makes p never notice a changed settings file: the
// negative control of the tests that it does.
func DisableRefresh(p *Policy) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.noRefresh = true
}

// DisableRacyReads makes p trust a settings file's stamp however recent
// its modification time: the negative control of the test of racyWindow.
func DisableRacyReads(p *Policy) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.noRacy, p.racy = true, false
}
