import { expect, it } from 'vitest'
import * as protocol from './index.js'

it('loads', () => expect(typeof protocol).toBe('object'))
