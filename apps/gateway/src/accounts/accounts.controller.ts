import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AccountsService, LoginThrottled, type ClientInfo } from './accounts.service';
import { BearerGuard, CallerOf, type Caller } from './bearer.guard';

const addressOf = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';
const clientOf = (req: Request): ClientInfo => ({ address: addressOf(req), userAgent: req.headers['user-agent'] ?? '' });

/** Sets Retry-After on a throttled answer; the exception filter writes the 429 body and keeps headers already set. */
async function withRetryAfter<T>(res: Response, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof LoginThrottled) res.setHeader('Retry-After', String(err.retryAfterS));
    throw err;
  }
}

/** HTTP adapter of the account service; bodies are validated inside the service. */
@Controller('api/auth')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post('register')
  @HttpCode(201)
  register(@Body() body: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return withRetryAfter(res, () => this.accounts.register(body, addressOf(req)));
  }

  @Post('login')
  @HttpCode(200)
  login(@Body() body: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return withRetryAfter(res, () => this.accounts.login(body, clientOf(req)));
  }

  @Post('refresh')
  @HttpCode(200)
  refresh(@Body() body: unknown) {
    return this.accounts.refresh(body);
  }

  @Post('logout')
  @HttpCode(204)
  @UseGuards(BearerGuard)
  async logout(@CallerOf() caller: Caller, @Body() body: unknown) {
    await this.accounts.logout(caller, body);
  }

  @Post('logout-all')
  @HttpCode(204)
  @UseGuards(BearerGuard)
  async logoutAll(@CallerOf() caller: Caller) {
    await this.accounts.logoutAll(caller);
  }
}

/** The caller's own account: sessions, password, deletion (Bearer). */
@Controller('api/account')
@UseGuards(BearerGuard)
export class OwnAccountController {
  constructor(private readonly accounts: AccountsService) {}

  @Get('sessions')
  sessions(@CallerOf() caller: Caller) {
    return this.accounts.listSessions(caller);
  }

  @Delete('sessions/:sessionId')
  @HttpCode(204)
  async revokeSession(@CallerOf() caller: Caller, @Param('sessionId') sessionId: string) {
    await this.accounts.revokeSession(caller, sessionId);
  }

  @Post('password')
  @HttpCode(204)
  async changePassword(@CallerOf() caller: Caller, @Body() body: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    await withRetryAfter(res, () => this.accounts.changePassword(caller, body, addressOf(req)));
  }

  @Delete()
  @HttpCode(204)
  async deleteAccount(@CallerOf() caller: Caller, @Body() body: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    await withRetryAfter(res, () => this.accounts.deleteAccount(caller, body, addressOf(req)));
  }
}

/** Server administrators (SERVER_ADMINS) only: disable and enable accounts (Bearer). */
@Controller('api/admin/users')
@UseGuards(BearerGuard)
export class AdminUsersController {
  constructor(private readonly accounts: AccountsService) {}

  @Post('disable')
  @HttpCode(204)
  async disable(@CallerOf() caller: Caller, @Body() body: unknown) {
    await this.accounts.setDisabled(caller, body, true);
  }

  @Post('enable')
  @HttpCode(204)
  async enable(@CallerOf() caller: Caller, @Body() body: unknown) {
    await this.accounts.setDisabled(caller, body, false);
  }
}
