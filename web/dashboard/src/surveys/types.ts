// Surveys and feedback as the API shows them (docs/surveys.md).

import type { AttrType } from '../types';

export type QuestionType = 'nps' | 'rating' | 'single_choice' | 'multiple_choice' | 'text';

export interface Rule {
  if: { question: string; op: string; value: unknown };
  goto: string;
}

export interface Question {
  id: string;
  type: QuestionType;
  prompt: string;
  options?: string[];
  required: boolean;
  low_label?: string;
  high_label?: string;
  branching?: Rule[];
}

export interface Appearance {
  position: string;
  background: string;
  text: string;
  accent: string;
}

export interface Targeting {
  segment?: { id?: string; text?: string };
  urls?: { match: string; value: string }[];
  devices?: string[];
  trigger: { type: string; seconds?: number; event?: string; percent?: number };
  frequency: { once: boolean; repeat_days?: number; dismiss_days: number };
  sample_percent: number;
  quota: number;
}

export interface Definition {
  name: string;
  questions: Question[];
  thank_you: { title: string; message: string };
  appearance: Appearance;
  targeting: Targeting;
}

export type SurveyStatus = 'draft' | 'live' | 'paused' | 'ended';

export interface Survey {
  id: string;
  status: SurveyStatus;
  definition: Definition;
  created_at: string;
  updated_at: string;
}

export interface NPSSummary {
  score: number | null;
  responses: number;
  promoters: number;
  passives: number;
  detractors: number;
}

export interface QuestionResult {
  id: string;
  type: QuestionType;
  prompt: string;
  answered: number;
  counts?: Record<string, number>;
  average?: number;
}

export interface Results {
  responses: number;
  completed: number;
  partial: number;
  dismissed: number;
  questions: QuestionResult[];
  nps: NPSSummary | null;
  interval: string;
  trend?: { start: string; nps: NPSSummary; partial?: boolean; few?: boolean }[];
  segments?: { id: string; name: string; respondents: number; completed: number; nps: NPSSummary }[];
}

export interface AttrValue {
  value: unknown;
  type: AttrType;
}

export interface Response {
  response_id: string;
  user_id: string;
  anonymous_id: string;
  attributes: Record<string, AttrValue>;
  answers: Record<string, unknown>;
  nps: number | null;
  completed: boolean;
  session_id: string;
  recording_id?: string; // the recording playing when it was given, if any
  has_recordings?: boolean; // whether the user has any recording
  url: string;
  created_at: string;
  completed_at: string | null;
}

export interface FeedbackSettings {
  enabled: boolean;
  position: string;
  background: string;
  text: string;
  accent: string;
  prompt: string;
}

export interface FeedbackItem {
  id: string;
  user_id: string;
  anonymous_id: string;
  attributes: Record<string, AttrValue>;
  rating: number;
  comment: string;
  url: string;
  selector: string;
  session_id: string;
  recording_id?: string; // the recording playing when it was given, if any
  has_recordings?: boolean; // whether the user has any recording
  created_at: string;
}

export interface FeedbackSummary {
  interval: string;
  count: number;
  average: number | null;
  by_rating: Record<string, number>;
  points: { start: string; count: number; average: number }[];
}

/** A new survey's definition: one NPS question, shown on load. */
export function blankDefinition(): Definition {
  return {
    name: '',
    questions: [{ id: 'score', type: 'nps', prompt: 'How likely are you to recommend us to a friend?', required: true, low_label: 'Not likely', high_label: 'Very likely' }],
    thank_you: { title: 'Thank you!', message: '' },
    appearance: { position: 'bottom-right', background: '#ffffff', text: '#111827', accent: '#4f46e5' },
    targeting: { trigger: { type: 'load' }, frequency: { once: true, dismiss_days: 30 }, sample_percent: 100, quota: 0 },
  };
}

/** Fills what an older or partial definition leaves out, so that forms can bind to every field. */
export function complete(d: Partial<Definition>): Definition {
  const b = blankDefinition();
  return {
    name: d.name || '',
    questions: d.questions || b.questions,
    thank_you: { ...b.thank_you, ...(d.thank_you || {}) },
    appearance: { ...b.appearance, ...(d.appearance || {}) },
    targeting: {
      ...b.targeting,
      ...(d.targeting || {}),
      trigger: { ...b.targeting.trigger, ...((d.targeting && d.targeting.trigger) || {}) },
      frequency: { ...b.targeting.frequency, ...((d.targeting && d.targeting.frequency) || {}) },
    },
  };
}

/**
 * Where a response or feedback's visitor can be looked at: the user's
 * profile, and the recording of the visit when there is one (else the
 * user's recordings).
 */
export function userLinks(
  site: string,
  userID: string,
  anonymousID: string,
  recordingID?: string,
  hasRecordings?: boolean,
): { profile: string; recordings: string; recordingLabel: string } {
  const s = '/s/' + encodeURIComponent(site);
  const id = userID || anonymousID;
  const kind = userID ? '' : '&kind=anonymous';
  const profile = `${s}/users/${encodeURIComponent(id)}`;
  if (recordingID) return { profile, recordings: `${s}/recordings/${encodeURIComponent(recordingID)}`, recordingLabel: 'Watch this visit' };
  // No link to a list that would be empty.
  if (!hasRecordings) return { profile, recordings: '', recordingLabel: '' };
  return { profile, recordings: `${s}/recordings?user=${encodeURIComponent(id)}${kind}`, recordingLabel: 'Recordings of this user' };
}

export const statusLabel: Record<SurveyStatus, string> = { draft: 'Draft', live: 'Live', paused: 'Paused', ended: 'Ended' };
