// Who is signed in, for every page: loaded once from /me, cleared on logout.
import { createContext, useContext } from 'react';
import type { Me } from './api.ts';

export const SessionContext = createContext<{ me: Me; signOut: () => void } | null>(null);

export function useSession(): { me: Me; signOut: () => void } {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

export const INTERNAL_ROLES = ['admin', 'commercial', 'sales', 'finance', 'auditor'] as const;
export const can = {
  writeAgreements: (me: Me) => me.role === 'admin' || me.role === 'commercial',
  decide: (me: Me) => me.role === 'admin' || me.role === 'commercial' || me.role === 'finance',
  finance: (me: Me) => me.role === 'admin' || me.role === 'finance',
  readLedger: (me: Me) => me.role === 'admin' || me.role === 'finance' || me.role === 'auditor',
  audit: (me: Me) => me.role === 'admin' || me.role === 'auditor',
  importLines: (me: Me) => me.role === 'admin' || me.role === 'finance',
};
