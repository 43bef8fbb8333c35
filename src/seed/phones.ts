import type { Draw } from './draw.js';

// Mobile numbers in E.164, built from each country's mobile number plan so that libphonenumber
// (what the service normalises with) accepts them unchanged: the seed-demo test checks every one it makes,
// and the prefixes were chosen by sampling each against libphonenumber.

interface Plan { country: string; prefix: string; starts: readonly string[]; digits: number }

export const GULF_PLANS: readonly Plan[] = [
  { country: 'SA', prefix: '+966', starts: ['50', '53', '54', '55', '56', '59'], digits: 7 },
  { country: 'AE', prefix: '+971', starts: ['50', '52', '54', '55', '56', '58'], digits: 7 },
  { country: 'KW', prefix: '+965', starts: ['50', '55', '66', '90', '99'], digits: 6 },
  { country: 'BH', prefix: '+973', starts: ['36', '39'], digits: 6 },
  { country: 'QA', prefix: '+974', starts: ['33', '55', '66', '77'], digits: 6 },
  { country: 'OM', prefix: '+968', starts: ['92', '95', '99'], digits: 6 },
];

export const EUROPEAN_PLANS: readonly Plan[] = [
  { country: 'DE', prefix: '+49', starts: ['151', '160', '170', '176'], digits: 8 },
  { country: 'GB', prefix: '+44', starts: ['74', '75', '78'], digits: 8 },
  { country: 'FR', prefix: '+33', starts: ['61', '62', '65', '66', '67', '75', '76', '77'], digits: 7 },
  { country: 'ES', prefix: '+34', starts: ['6'], digits: 8 },
  { country: 'IT', prefix: '+39', starts: ['33', '34', '35'], digits: 7 },
  { country: 'NL', prefix: '+31', starts: ['61', '62', '63', '64', '65'], digits: 7 },
];

export function phoneFrom(draw: Draw, plan: Plan): string {
  let rest = '';
  for (let i = 0; i < plan.digits; i++) rest += String(draw.int(0, 9));
  return `${plan.prefix}${draw.pick(plan.starts)}${rest}`;
}
