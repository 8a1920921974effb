import { DISTRIBUTIVE_LIMITS } from './limits.js'

/**
 * The three upstream formats after keys are lower-cased: v0.1–v0.2.1 `check`, v0.2.2–v0.2.5 `id` (JSON),
 * v0.3 `id` (YAML). Unknown keys are ignored, as Go's decoder ignored them. Parameters are strings by the time
 * this runs (numbers and booleans converted).
 */
export const CHECKLIST_SCHEMA = {
  type: 'object',
  required: ['checklist'],
  properties: {
    name: { type: 'string' },
    notes: { type: 'string' },
    checklist: {
      type: 'array',
      minItems: 1,
      maxItems: DISTRIBUTIVE_LIMITS.checksPerChecklistMax,
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          notes: { type: 'string' },
          check: { type: 'string' },
          id: { type: 'string' },
          parameters: { type: 'array', items: { type: 'string' } },
          severity: { enum: ['critical', 'warning'] },
        },
        anyOf: [{ required: ['check'] }, { required: ['id'] }],
      },
    },
  },
} as const
