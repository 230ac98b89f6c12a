// The shapes the dashboard reads from Sightline's API (see internal/api).

export type Role = 'owner' | 'admin' | 'member' | 'viewer';
export type Access = 'read' | 'write' | 'admin';
export type AttrType = 'string' | 'number' | 'boolean' | 'datetime';

export interface Account {
  id: string;
  email: string;
  name: string;
  role: Role;
}

export interface Site {
  id: string;
  name: string;
  origins: string[];
  created_at: string;
  access?: Access;
  respect_dnt?: boolean;
  key_attributes?: string[] | null; // shown beside users; empty: a default pick
  time_zone?: string; // IANA; insights' default zone
}

/** The answer of GET /api/v1/me, of sign-in, setup and invite acceptance. */
export interface Me {
  account: Account;
  csrf_token: string;
  sites: Site[];
}

export interface Attr {
  value: unknown;
  type: AttrType;
  changed_at: string;
}

export interface UserRow {
  user_id: string;
  key: number;
  last_seen?: string | null;
  attributes?: Record<string, Attr>;
}

export interface UserProfile {
  user_id: string;
  anonymous_ids: string[];
  first_seen: string | null;
  last_seen: string | null;
  sessions: number;
  events: number;
  attributes: Record<string, Attr>;
  companies: { group_id: string; attributes: Record<string, Attr> }[];
}

export interface Change {
  key: string;
  value: unknown;
  type?: AttrType;
  at: string;
}

export interface Signals {
  clicks?: number;
  rage_clicks?: number;
  dead_clicks?: number;
  u_turns?: number;
  errors?: number;
  max_scroll?: number;
}

export interface Session {
  id: number;
  start: string;
  end: string;
  duration_seconds: number;
  pages: number;
  events: number;
  entry_page: string;
  exit_page: string;
  device_type: string;
  browser: string;
  os: string;
  country: string;
  channel: string;
  referrer: string;
  utm_source: string;
  signals?: Signals;
  /** The recordings made during the session, oldest first (none when recording is off). */
  recordings?: string[];
}

export interface Event {
  type: string;
  name?: string;
  timestamp: string;
  message_id: string;
  session_id?: number;
  url?: string;
  path?: string;
  title?: string;
  properties: Record<string, unknown> | null;
}

export interface CatalogKey {
  entity: 'user' | 'group';
  key: string;
  type: AttrType;
  users: number;
  first_seen: string;
  sample_values: string[];
  rejections: number;
}

export interface Rejection {
  entity: string;
  key: string;
  expected: AttrType;
  received: string;
  value: string;
  id: string;
  message_id: string;
  at: string;
}

// A message that was acknowledged but that the database refused when
// applying it: set aside with the reason.
export interface QuarantinedMessage {
  id: number;
  message_id: string;
  type: string;
  reason: string;
  message: unknown;
  quarantined_at: string;
}

export interface Member {
  user_id: string;
  key: number;
  attributes: Record<string, Attr>;
}

export interface Problem {
  line?: number;
  column?: number;
  path?: string;
  message: string;
  /** Warnings only: known names to use instead, nearest first. */
  suggestions?: string[];
}

export interface Preview {
  size: number;
  members: Member[];
  text: string;
  definition: Condition;
  took_ms: number;
  /** Events and property keys the site has not seen: not errors, but likely typos. */
  warnings?: Problem[];
}

/** A JSON type a property's values had; datetime is a string that reads as an ISO-8601 date. */
export type PropertyType = 'string' | 'number' | 'boolean' | 'datetime' | 'object' | 'array' | 'null';

export interface EventProperty {
  key: string;
  types: PropertyType[];
  count: number;
  sample_values: string[];
}

/** One event of the event catalog: a track event, or a page or screen view, by name. */
export interface EventInfo {
  name: string;
  kind: 'track' | 'page' | 'screen';
  count: number;
  /** Distinct users; left out when not asked for. */
  users?: number;
  first_seen: string;
  last_seen: string;
  sources: ('tracker' | 'server')[];
  properties?: EventProperty[];
}

export interface SavedSegment {
  id: string;
  name: string;
  description: string;
  author: string;
  text: string;
  definition: Condition;
  created_at: string;
  updated_at: string;
  size?: number;
}

/** A segment condition in its JSON form (docs/segments.md). */
export interface Condition {
  type: string;
  [field: string]: unknown;
}

export interface Token {
  id: string;
  name?: string;
  scope: Access;
  created_at: string;
  last_used_at?: string | null;
  revoked_at?: string | null;
}

export interface TeamAccount {
  id: string;
  email: string;
  name: string;
  role: Role;
  sites: string[];
  created_at: string;
  last_seen_at: string | null;
}

export interface Invite {
  id: string;
  email: string;
  role: Role;
  sites: string[];
  created_at: string;
  expires_at?: string;
  url?: string;
}

export interface InstallStatus {
  last_event_at: string | null;
  last_page_url: string;
  last_source: 'tracker' | 'server' | '';
  events_24h: number;
}
