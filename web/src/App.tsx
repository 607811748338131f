// The app's frame: sign-in, the navigation each role sees, and the pages.
// Partner users get the portal; internal users the working app.
import { type FormEvent, useEffect, useState } from 'react';
import { Navigate, NavLink, Route, Routes } from 'react-router';
import { ApiError, api, type Me } from './api.ts';
import { errorText } from './components.tsx';
import { AgreementPage } from './pages/AgreementPage.tsx';
import { AgreementsPage } from './pages/AgreementsPage.tsx';
import { AuditPage } from './pages/AuditPage.tsx';
import { ClaimsPage } from './pages/ClaimsPage.tsx';
import { DashboardPage } from './pages/DashboardPage.tsx';
import { DesignerPage } from './pages/DesignerPage.tsx';
import { LedgerPage } from './pages/LedgerPage.tsx';
import { LinesPage } from './pages/LinesPage.tsx';
import { PartnerPage } from './pages/PartnerPage.tsx';
import { PartnersPage } from './pages/PartnersPage.tsx';
import { PortalPage } from './pages/PortalPage.tsx';
import { ProductsPage } from './pages/ProductsPage.tsx';
import { SettlementsPage } from './pages/SettlementsPage.tsx';
import { TemplatesPage } from './pages/TemplatesPage.tsx';
import { TransactionsPage } from './pages/TransactionsPage.tsx';
import { can, SessionContext } from './session.tsx';

export function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  useEffect(() => {
    api<Me>('GET', '/me')
      .then(setMe)
      .catch(() => setMe(null));
  }, []);
  if (me === undefined) return <p className="muted">Loading…</p>;
  if (me === null) return <LoginPage onSignedIn={setMe} />;
  const signOut = () => {
    void api('DELETE', '/sessions/current').finally(() => setMe(null));
  };
  return (
    <SessionContext.Provider value={{ me, signOut }}>
      <a href="#main" className="skip">
        Skip to content
      </a>
      <header className="top">
        <strong className="brand">Rebates</strong>
        <nav aria-label="Main">
          {me.role === 'partner' ? (
            <NavLink to="/">My agreements</NavLink>
          ) : (
            <>
              <NavLink to="/" end>
                Dashboard
              </NavLink>
              <NavLink to="/agreements">Agreements</NavLink>
              <NavLink to="/templates">Templates</NavLink>
              <NavLink to="/partners">Partners</NavLink>
              <NavLink to="/products">Products</NavLink>
              <NavLink to="/lines">Lines</NavLink>
              {can.importLines(me) || can.writeAgreements(me) ? (
                <NavLink to="/transactions">Imports</NavLink>
              ) : null}
              {can.readLedger(me) ? <NavLink to="/ledger">Ledger</NavLink> : null}
              <NavLink to="/settlements">Settlements</NavLink>
              <NavLink to="/claims">Claims</NavLink>
              {can.audit(me) ? <NavLink to="/audit">Audit</NavLink> : null}
            </>
          )}
        </nav>
        <span className="who">
          {me.displayName} ({me.role})
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main">
        {me.role === 'partner' ? (
          <Routes>
            <Route path="/" element={<PortalPage />} />
            <Route path="*" element={<Navigate to="/" replace />} />
          </Routes>
        ) : (
          <Routes>
            <Route path="/" element={<DashboardPage />} />
            <Route path="/agreements" element={<AgreementsPage />} />
            <Route path="/agreements/new" element={<DesignerPage />} />
            <Route path="/templates" element={<TemplatesPage />} />
            <Route path="/agreements/:id" element={<AgreementPage />} />
            <Route path="/partners" element={<PartnersPage />} />
            <Route path="/partners/:id" element={<PartnerPage />} />
            <Route path="/lines" element={<LinesPage />} />
            <Route path="/products" element={<ProductsPage />} />
            <Route path="/transactions" element={<TransactionsPage />} />
            <Route path="/settlements" element={<SettlementsPage />} />
            <Route path="/ledger" element={<LedgerPage />} />
            <Route path="/claims" element={<ClaimsPage />} />
            <Route path="/audit" element={<AuditPage />} />
            <Route path="*" element={<Navigate to="/" replace />} />
          </Routes>
        )}
      </main>
    </SessionContext.Provider>
  );
}

function LoginPage({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api('POST', '/sessions', { username, password });
      onSignedIn(await api<Me>('GET', '/me'));
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? 'Wrong username or password.' : errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" className="login">
      <h1>Rebates</h1>
      <form onSubmit={submit} aria-label="Sign in">
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {error ? (
          <p role="alert" className="error">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
