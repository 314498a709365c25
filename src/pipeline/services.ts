/**
 * The process's shared services as stages see them, by typed key: the feature
 * that provides a service exports its key (identity/runtime.ts, ratelimit/...),
 * the assembly registers the instance, a stage asks for it at compile time. A
 * new service adds a key, not a field to the stage contract.
 */
export interface ServiceKey<T> {
  readonly name: string;
  /** Carries T for the type checker only. */
  readonly __type?: T;
}

export function serviceKey<T>(name: string): ServiceKey<T> {
  return { name };
}

export interface ServiceLookup {
  /** The service registered under `key`; throws when the process has none (a wiring error, found at compile). */
  get<T>(key: ServiceKey<T>): T;
  /** The service, or null when this process or config has none (an optional one). */
  find<T>(key: ServiceKey<T>): T | null;
}

export class Services implements ServiceLookup {
  private readonly byKey = new Map<ServiceKey<unknown>, unknown>();

  constructor(parent: ServiceLookup | null = null) {
    this.parent = parent;
  }

  private readonly parent: ServiceLookup | null;

  set<T>(key: ServiceKey<T>, value: T): this {
    this.byKey.set(key, value);
    return this;
  }

  get<T>(key: ServiceKey<T>): T {
    const value = this.find(key);
    if (value === null) throw new Error(`no "${key.name}" service in this process`);
    return value;
  }

  find<T>(key: ServiceKey<T>): T | null {
    if (this.byKey.has(key)) return (this.byKey.get(key) as T | undefined) ?? null;
    return this.parent ? this.parent.find(key) : null;
  }
}
