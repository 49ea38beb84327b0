/** oidc-provider's storage interface for the test server (test/helpers/oauth-server.ts). */

export interface Stored {
  payload: Record<string, unknown>;
  expiresAt: number;
}

/**
 * oidc-provider's storage interface over one Map per server (its built-in adapter is shared by every server in a
 * process). With `allowReuse`, consuming a refresh token is a no-op, so a rotated-out token stays valid.
 */
export function memoryAdapter(allowReuse: boolean, store: Map<string, Stored>) {
  const byGrant = new Map<string, Set<string>>();
  const live = (key: string) => {
    const s = store.get(key);
    if (s === undefined || s.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return s.payload;
  };
  return class Adapter {
    readonly name: string;
    constructor(name: string) {
      this.name = name;
    }
    key(id: string) {
      return `${this.name}:${id}`;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      const key = this.key(id);
      // Kept a minute past expiry, as the built-in adapter does: the models check expiry themselves, so that an
      // expired refresh token is reported as expired, not as unknown.
      store.set(key, { payload: { ...payload }, expiresAt: expiresIn === undefined ? Infinity : Date.now() + (expiresIn + 60) * 1000 });
      if (typeof payload.grantId === 'string') {
        const set = byGrant.get(payload.grantId) ?? new Set<string>();
        set.add(key);
        byGrant.set(payload.grantId, set);
      }
      if (typeof payload.userCode === 'string') store.set(`userCode:${payload.userCode}`, { payload: { id }, expiresAt: Infinity });
      if (typeof payload.uid === 'string') store.set(`uid:${payload.uid}`, { payload: { id }, expiresAt: Infinity });
    }
    async find(id: string) {
      return live(this.key(id));
    }
    async findByUserCode(userCode: string) {
      const ref = live(`userCode:${userCode}`);
      return ref === undefined ? undefined : live(this.key(String(ref.id)));
    }
    async findByUid(uid: string) {
      const ref = live(`uid:${uid}`);
      return ref === undefined ? undefined : live(this.key(String(ref.id)));
    }
    async consume(id: string) {
      if (allowReuse && this.name === 'RefreshToken') return;
      const p = live(this.key(id));
      if (p !== undefined) p.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const key of byGrant.get(grantId) ?? []) store.delete(key);
      byGrant.delete(grantId);
    }
  };
}
